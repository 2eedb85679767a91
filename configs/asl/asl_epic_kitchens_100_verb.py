# ASL on EPIC-Kitchens-100 verbs (97 classes), SlowFast features (2304-d,
# 32 frames every 16 at 30 fps). ActionFormer's current EPIC recipe
# (configs/epic_slowfast_verb.yaml): the default 6-level model with window
# 9, regress ranges (0,4) (2,8) (4,16) (8,32) (16,64) (32,inf), loss
# normaliser init 250, batch 2, AdamW lr 1e-4 / weight decay 0.05, 16 epochs
# after 5 of warm-up, crop to 2304 steps (trunc_thresh 0.3, crop ratio
# 0.9-1.0), per-class soft-NMS sigma 0.4, 5000 candidates per level, 2000
# detections per video.
_base_ = [
    '../_base_/models/asl_convtransformer.py',
    '../_base_/datasets/epic_kitchens_100.py',
    '../_base_/schedules/adamw_cosine_warmup.py',
    '../_base_/default_runtime.py'
]
task = 'verb'
model = dict(
    data_preprocessor=dict(max_seq_len={{_base_.max_seq_len}}),
    backbone=dict(in_channels=2304, max_seq_len={{_base_.max_seq_len}}),
    head=dict(
        num_classes=97,
        regress_ranges=((0, 4), (2, 8), (4, 16), (8, 32), (16, 64),
                        (32, 10000)),
        loss_normalizer=dict(init=250.0, momentum=0.9),
        test_cfg=dict(nms=dict(sigma=0.4))))
class_file = f'annotations/EPIC_100_{task}_classes.csv'
train_dataloader = dict(dataset=dict(task=task, class_file=class_file))
val_dataloader = dict(dataset=dict(task=task, class_file=class_file))
test_dataloader = val_dataloader
train_cfg = dict(max_epochs=16 + 5)
