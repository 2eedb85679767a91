import pytest
import torch

from asl_mmaction.models.data_preprocessors import ASLDataPreprocessor


def test_inference_pads_to_multiple_and_masks_real_steps():
    pre = ASLDataPreprocessor(max_seq_len=128, pad_divisor=32)
    inputs = [torch.randn(3, 40), torch.randn(3, 70), torch.randn(3, 5)]
    out = pre(dict(inputs=inputs, data_samples=None), training=False)
    assert out['inputs'].shape == (3, 3, 96)  # 70 rounded up to 96
    assert out['masks'].shape == (3, 1, 96)
    assert out['masks'].sum(-1).flatten().tolist() == [40, 70, 5]
    assert torch.equal(out['inputs'][1, :, :70], inputs[1])
    assert out['inputs'][0, :, 40:].abs().sum() == 0


def test_inference_accepts_lengths_beyond_max_seq_len():
    pre = ASLDataPreprocessor(max_seq_len=64, pad_divisor=32)
    out = pre(dict(inputs=[torch.randn(2, 100)]), training=False)
    assert out['inputs'].shape[-1] == 128


def test_training_pads_to_the_longest_and_refuses_longer_than_max():
    pre = ASLDataPreprocessor(max_seq_len=128, pad_divisor=32)
    out = pre(dict(inputs=[torch.randn(2, 10), torch.randn(2, 40)]),
              training=True)
    assert out['inputs'].shape[-1] == 64
    with pytest.raises(ValueError, match='RandomTemporalCrop'):
        pre(dict(inputs=[torch.randn(2, 129)]), training=True)
    # ActionFormer's fixed training shape on request
    fixed = ASLDataPreprocessor(max_seq_len=128, pad_divisor=32,
                                pad_train_to_max=True)
    assert fixed(dict(inputs=[torch.randn(2, 10)]),
                 training=True)['inputs'].shape[-1] == 128


def test_training_losses_do_not_depend_on_the_padding():
    """The padding-invariant model gives the same ActionFormer losses (and
    gradients) for a batch padded to its longest video or to max_seq_len."""
    from mmengine.config import Config
    from mmengine.structures import InstanceData
    from mmaction.registry import MODELS
    from asl_mmaction.structures import TADDataSample
    from oracles import randomize_norms
    cfg = Config.fromfile('configs/actionformer/actionformer_demo.py')
    cfg.model.backbone.path_drop = 0.0
    losses, grads = [], []
    for fixed in (False, True):
        cfg.model.data_preprocessor.pad_train_to_max = fixed
        torch.manual_seed(0)
        model = randomize_norms(MODELS.build(cfg.model))
        model.train()
        samples = []
        for i, n in enumerate((150, 97)):
            sample = TADDataSample(metainfo=dict(video_name=f'v{i}'))
            sample.gt_instances = InstanceData(
                segments_in_steps=torch.tensor([[10.0, 30.0], [60.0, 90.0]]),
                labels=torch.tensor([1, 4]))
            samples.append(sample)
        gen = torch.Generator().manual_seed(1)
        inputs = [torch.randn(32, n, generator=gen) for n in (150, 97)]
        data = model.data_preprocessor(dict(inputs=inputs,
                                            data_samples=samples), True)
        assert data['inputs'].shape[-1] == (384 if fixed else 152)
        out = model(**data, mode='loss')
        sum(out.values()).backward()
        losses.append({k: float(v.detach()) for k, v in out.items()})
        grads.append(torch.cat([p.grad.flatten() for p in model.parameters()
                                if p.grad is not None]))
    for key in losses[0]:
        assert losses[0][key] == pytest.approx(losses[1][key], rel=1e-5)
    torch.testing.assert_close(grads[0], grads[1], rtol=1e-4, atol=1e-6)


def test_max_seq_len_must_be_multiple_of_divisor():
    with pytest.raises(ValueError, match='multiple'):
        ASLDataPreprocessor(max_seq_len=100, pad_divisor=32)
