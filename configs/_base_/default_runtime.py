# Runtime shared by every config. Importing asl_mmaction registers all of its
# components into MMAction2's registries.
default_scope = 'mmaction'
custom_imports = dict(imports=['asl_mmaction'], allow_failed_imports=False)

default_hooks = dict(
    runtime_info=dict(type='RuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20, ignore_last=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # Every epoch plus the last one; `--resume` picks up the newest.
    checkpoint=dict(type='CheckpointHook', interval=1, save_last=True,
                    max_keep_ckpts=3, save_best='auto'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    sync_buffers=dict(type='SyncBuffersHook'),
    # Checkpoints of tensors and plain types only: MMEngine's loader reads
    # them under torch's weights_only=True default (utils/checkpoint.py).
    plain_checkpoint=dict(type='PlainCheckpointHook'),
)

# EMA of the weights (decay 0.999 per iteration), as ActionFormer evaluates.
custom_hooks = [
    dict(type='EMAHook', ema_type='ExponentialMovingAverage', momentum=0.001,
         update_buffers=True, priority=49),
    # Logs the learned class-level sensitivity (mu, sigma, mean weight);
    # does nothing when the model has no ClassSensitivityEvaluator.
    dict(type='SensitivityStatsHook'),
    # Random generator states in checkpoints: exact --resume.
    dict(type='RNGStateHook'),
    # Classes absent from the training set start at probability 1e-6
    # (ActionFormer's head_empty_cls).
    dict(type='EmptyClassPriorHook'),
]

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # tools/train.py switches to gloo when CUDA is not available.
    dist_cfg=dict(backend='nccl'),
)

log_processor = dict(type='LogProcessor', window_size=20, by_epoch=True)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='Visualizer', vis_backends=vis_backends)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0, deterministic=False)
