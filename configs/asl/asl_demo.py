# ASL on the embedded demo data: a small conv-transformer (4 levels,
# 64 channels) that trains on 2 CPU cores in about half a minute.
_base_ = [
    '../_base_/models/asl_convtransformer.py', '../_base_/datasets/demo.py',
    '../_base_/schedules/adamw_cosine_warmup.py', '../_base_/default_runtime.py'
]
num_levels = 4
channels = 64
model = dict(
    data_preprocessor=dict(max_seq_len={{_base_.max_seq_len}}),
    backbone=dict(in_channels=32, embed_channels=channels,
                  arch=(2, 2, num_levels - 1),
                  max_seq_len={{_base_.max_seq_len}}, path_drop=0.0),
    neck=dict(in_channels=channels, out_channels=channels,
              num_levels=num_levels),
    head=dict(
        num_classes=6, in_channels=channels, feat_channels=channels,
        strides=tuple(2**i for i in range(num_levels)),
        regress_ranges=((0, 4), (4, 8), (8, 16), (16, 10000))))

train_cfg = dict(max_epochs=16, val_interval=4)
param_scheduler = [
    dict(type='LinearWarmupCosineLR', warmup=2, by_epoch=True,
         convert_to_iter_based=True),
]
optim_wrapper = dict(optimizer=dict(lr=1e-3))
# ~400 iterations: an EMA horizon of ~100 iterations instead of ~1000, or
# the averaged weights would still be mostly the random initial ones.
custom_hooks = [
    dict(type='EMAHook', ema_type='ExponentialMovingAverage', momentum=0.01,
         update_buffers=True, priority=49),
    dict(type='SensitivityStatsHook'),
    dict(type='RNGStateHook'),
    dict(type='EmptyClassPriorHook'),
]
default_hooks = dict(logger=dict(interval=10),
                     checkpoint=dict(interval=4, max_keep_ckpts=2))
randomness = dict(seed=0)
work_dir = './work_dirs/asl_demo'
