# ASL on Ego4D-MQ with SlowFast + Omnivore + EgoVLP features (2304 + 1536 +
# 256 channels). ActionFormer's recipe
# (configs/ego4d_slowfast_omnivore_egovlp.yaml): each stream projected on
# its own (1x1 convs to 256 / 384 / 384, concatenated: 1024-d), 8 pyramid
# levels (arch 2-2-7), window 9, 16 heads, 1024-d pyramid and heads,
# absolute position encoding, projection dropout and drop-path 0.1 (no
# attention dropout), regress ranges (0,4) (2,8) ... (128,inf), loss
# normaliser init 100, 10 epochs after 5 of warm-up, per-class soft-NMS
# sigma 0.9, 2000 detections per clip.
_base_ = [
    '../_base_/models/asl_convtransformer.py',
    '../_base_/datasets/ego4d_mq.py',
    '../_base_/schedules/adamw_cosine_warmup.py',
    '../_base_/default_runtime.py'
]
num_levels = 8
channels = 1024
feat_dirs = ['features/slowfast', 'features/omnivore', 'features/egovlp']
feat_dims = [2304, 1536, 256]
model = dict(
    data_preprocessor=dict(max_seq_len={{_base_.max_seq_len}}),
    backbone=dict(in_channels=feat_dims, stream_channels=[256, 384, 384],
                  embed_channels=channels, arch=(2, 2, num_levels - 1),
                  num_heads=16, with_abs_pe=True,
                  max_seq_len={{_base_.max_seq_len}}, proj_drop=0.1,
                  path_drop=0.1),
    neck=dict(in_channels=channels, out_channels=channels,
              num_levels=num_levels),
    head=dict(
        num_classes=110, in_channels=channels, feat_channels=channels,
        strides=tuple(2**i for i in range(num_levels)),
        regress_ranges=((0, 4), (2, 8), (4, 16), (8, 32), (16, 64),
                        (32, 128), (64, 256), (128, 10000)),
        loss_normalizer=dict(init=100.0, momentum=0.9),
        test_cfg=dict(nms=dict(sigma=0.9))))
train_dataloader = dict(dataset=dict(feat_dirs=feat_dirs, feat_dims=feat_dims))
val_dataloader = dict(dataset=dict(feat_dirs=feat_dirs, feat_dims=feat_dims))
test_dataloader = val_dataloader
train_cfg = dict(max_epochs=10 + 5)
