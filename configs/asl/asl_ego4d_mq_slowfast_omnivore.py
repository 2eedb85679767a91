# ASL on Ego4D-MQ with SlowFast + Omnivore features (2304 + 1536 channels).
# Hyper-parameters of the published ActionFormer / ASL Ego4D configs: 7
# levels, window 9, 16 heads, 1024-d pyramid and heads, absolute position
# encoding, dropout / drop-path 0.1, 10 epochs after 5 of warm-up.
_base_ = [
    '../_base_/models/asl_convtransformer.py',
    '../_base_/datasets/ego4d_mq.py',
    '../_base_/schedules/adamw_cosine_warmup.py',
    '../_base_/default_runtime.py'
]
in_channels = 2304 + 1536
channels = 1024
model = dict(
    data_preprocessor=dict(max_seq_len=1024, pad_divisor=64),
    backbone=dict(in_channels=in_channels, embed_channels=channels,
                  arch=(2, 2, 6), num_heads=16, window_size=9,
                  with_abs_pe=True, max_seq_len=1024, attn_drop=0.1,
                  proj_drop=0.1, path_drop=0.1),
    neck=dict(in_channels=channels, out_channels=channels, num_levels=7),
    head=dict(
        num_classes=110, in_channels=channels, feat_channels=channels,
        strides=(1, 2, 4, 8, 16, 32, 64),
        regress_ranges=((0, 4), (2, 8), (4, 16), (8, 32), (16, 64),
                        (32, 128), (64, 10000)),
        loss_normalizer=dict(init=100.0, momentum=0.9),
        test_cfg=dict(nms=dict(sigma=0.9, voting_threshold=0.95))))

# ActionFormer's Ego4D recipe: 10 epochs after 5 of warm-up.
train_cfg = dict(max_epochs=10 + 5)
