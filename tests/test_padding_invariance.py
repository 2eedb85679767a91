"""A video's outputs do not depend on its batch: run alone (padded only to
the coarsest stride) or with other videos and any extra padding, its class
logits, offsets and instance quality on its valid steps agree to 1e-5, in
eval and train mode, for every backbone / neck, with trained-like
(randomised) norms."""
import pytest
import torch
from mmaction.registry import MODELS

from oracles import randomize_norms

C, D, K = 6, 16, 3
STRIDES = (1, 2, 4, 8)
RANGES = ((0, 4), (4, 8), (8, 16), (16, 1e4))

BACKBONES = {
    'convtransformer': dict(type='ConvTransformerBackbone', in_channels=C,
                            embed_channels=D, arch=(2, 1, 3), num_heads=2,
                            window_size=5, path_drop=0.1),
    # longer than max_seq_len at inference: the position encoding is
    # stretched to the video's own length, not the batch's
    'convtransformer_abs_pe': dict(type='ConvTransformerBackbone',
                                   in_channels=C, embed_channels=D,
                                   arch=(1, 1, 3), num_heads=2,
                                   window_size=5, with_abs_pe=True,
                                   max_seq_len=48, path_drop=0.1),
    'convtransformer_streams': dict(type='ConvTransformerBackbone',
                                    in_channels=[4, 2], stream_channels=[8, 8],
                                    embed_channels=D, arch=(1, 1, 3),
                                    num_heads=2, window_size=5),
    'conv': dict(type='ConvBackbone', in_channels=C, embed_channels=D,
                 arch=(2, 1, 3)),
}
NECKS = {
    'identity': dict(type='IdentityPyramidNeck', in_channels=D,
                     out_channels=D, num_levels=4),
    'fpn': dict(type='FPN1d', in_channels=[D] * 4, out_channels=D),
}


def build_detector(backbone, neck):
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='ASLDetector', backbone=backbone, neck=neck,
        head=dict(type='ASLHead', num_classes=K, in_channels=D,
                  feat_channels=D, strides=STRIDES, regress_ranges=RANGES,
                  instance_sensitivity=dict(
                      type='InstanceSensitivityEvaluator', feat_channels=8),
                  contrastive_loss=dict(
                      type='ActionSensitiveContrastiveLoss'))))
    # trained-like weights: every norm and scale away from its init
    return randomize_norms(model)


def run(model, videos, length):
    """Head outputs of ``videos`` padded to ``length`` steps."""
    x = torch.zeros(len(videos), C, length)
    mask = torch.zeros(len(videos), 1, length, dtype=torch.bool)
    for i, v in enumerate(videos):
        x[i, :, :v.shape[1]] = v
        mask[i, :, :v.shape[1]] = True
    # padding that holds garbage must not matter either
    x = x + 7.0 * ~mask
    feats, masks = model.extract_feat(x, mask)
    return model.head(feats, masks), masks


def assert_same_on_valid(alone, batched, length):
    (outs_a, masks_a), (outs_b, _) = alone, batched
    for outs_alone, outs_batch in zip(outs_a, outs_b):
        if outs_alone is None:
            continue
        for level, (a, b, m) in enumerate(zip(outs_alone, outs_batch,
                                              masks_a)):
            n = int(m[0, 0].sum())
            assert n > 0
            torch.testing.assert_close(b[0, :n], a[0, :n], atol=1e-5,
                                       rtol=1e-5)


@pytest.mark.parametrize('neck', sorted(NECKS))
@pytest.mark.parametrize('backbone', sorted(BACKBONES))
@pytest.mark.parametrize('train', [False, True], ids=['eval', 'train'])
def test_outputs_on_valid_steps_ignore_the_batch(backbone, neck, train):
    cfg = dict(BACKBONES[backbone])
    if train and 'max_seq_len' in cfg:
        cfg['max_seq_len'] = 128  # training inputs fit the encoding
    model = build_detector(cfg, NECKS[neck])
    if train:  # no random drop, so both runs draw the same
        model.train()
        for m in model.modules():
            if hasattr(m, 'drop_prob'):
                m.drop_prob = 0.0
    else:
        model.eval()
    torch.manual_seed(1)
    video = torch.randn(C, 61)  # alone: padded to 64 (coarsest stride 8)
    other = torch.randn(C, 96)
    with torch.no_grad():
        alone = run(model, [video], 64)
        for length in (96, 128):
            assert_same_on_valid(alone, run(model, [video, other], length),
                                 length)


@pytest.mark.parametrize('max_padding', [None, 'auto', 0.1, 10.0])
def test_detections_ignore_the_batch_size(max_padding):
    """End to end through the preprocessor and NMS: the detections of a
    video are the same at test batch size 1 and 3, run as one padded batch
    (None), as length buckets (auto: 0 on the CPU; 0.1: here each video
    apart) or as one bucket (10)."""
    from asl_mmaction.structures import TADDataSample
    model = build_detector(BACKBONES['convtransformer'], NECKS['identity'])
    model.predict_max_padding = max_padding
    model.eval()
    torch.manual_seed(2)
    feats = [torch.randn(C, n) for n in (61, 200, 130)]

    def sample(i):
        return TADDataSample(metainfo=dict(
            video_name=f'v{i}', fps=30.0, feat_stride=16.0, feat_offset=1.0,
            duration=1000.0))

    def detect(indices):
        data = model.data_preprocessor(dict(
            inputs=[feats[i] for i in indices],
            data_samples=[sample(i) for i in indices]), False)
        with torch.no_grad():
            return model(**data, mode='predict')

    alone = detect([0])[0].pred_instances
    batched = detect([0, 1, 2])[0].pred_instances
    assert len(alone.scores) > 0
    torch.testing.assert_close(batched.scores, alone.scores, atol=1e-5,
                               rtol=1e-5)
    torch.testing.assert_close(batched.segments, alone.segments, atol=1e-4,
                               rtol=1e-5)
    assert torch.equal(batched.labels, alone.labels)


def test_length_buckets():
    from asl_mmaction.models.detectors.length_buckets import length_buckets
    # batch-1 work (lengths rounded up to 4): 52, 100, 96, 48, 48, 12;
    # 2 x 100 <= 1.1 x 196, but adding 52 would be 3 x 100 > 1.1 x 248
    assert length_buckets([50, 100, 95, 48, 47, 10], 0.1, 4) == [
        [1, 2], [0, 3, 4], [5]]
    # 0: only videos of one padded length share a call
    assert length_buckets([30, 20, 32], 0.0, 32) == [[2, 0, 1]]
    assert length_buckets([40, 20], 0.0, 32) == [[0], [1]]
    assert length_buckets([40, 20], 0.5, 32) == [[0, 1]]
    with pytest.raises(ValueError, match='max_padding'):
        length_buckets([3], -1.0)
