# ActionFormer / ASL schedule: AdamW (lr 1e-4, weight decay 0.05, none on
# norms, biases and position encodings), linear warm-up then cosine decay,
# gradient clipping at L2 norm 1.0. Epoch counts are set per experiment.
max_epochs = 20
warmup_epochs = 5

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, weight_decay=0.05),
    # The Gaussians' mu / sigma are not weights to shrink either.
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0,
                       custom_keys=dict(
                           pos_embed=dict(decay_mult=0.0),
                           class_sensitivity=dict(decay_mult=0.0))),
    clip_grad=dict(max_norm=1.0, norm_type=2),
)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0,
         end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=warmup_epochs,
         end=max_epochs, T_max=max_epochs - warmup_epochs, eta_min=0.0,
         convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs,
                 val_begin=1, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

# Batch 2 per GPU in the published configs.
auto_scale_lr = dict(enable=False, base_batch_size=2)
