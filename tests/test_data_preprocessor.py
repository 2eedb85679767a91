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


def test_training_pads_to_max_seq_len_and_refuses_longer():
    pre = ASLDataPreprocessor(max_seq_len=64, pad_divisor=32)
    out = pre(dict(inputs=[torch.randn(2, 10)]), training=True)
    assert out['inputs'].shape[-1] == 64
    with pytest.raises(ValueError, match='RandomTemporalCrop'):
        pre(dict(inputs=[torch.randn(2, 65)]), training=True)


def test_max_seq_len_must_be_multiple_of_divisor():
    with pytest.raises(ValueError, match='multiple'):
        ASLDataPreprocessor(max_seq_len=100, pad_divisor=32)
