# ASL on EPIC-Kitchens-100 verbs (97 classes), SlowFast features.
# ActionFormer's EPIC config: 6 levels, window 9, loss normaliser init 250,
# soft-NMS sigma 0.4, 25 epochs after 5 of warm-up.
_base_ = [
    '../_base_/models/asl_convtransformer.py',
    '../_base_/datasets/epic_kitchens_100.py',
    '../_base_/schedules/adamw_cosine_warmup.py',
    '../_base_/default_runtime.py'
]
task = 'verb'
model = dict(
    backbone=dict(in_channels=2304),
    head=dict(
        num_classes=97,
        regress_ranges=((0, 4), (2, 8), (4, 16), (8, 32), (16, 64),
                        (32, 10000)),
        loss_normalizer=dict(init=250.0, momentum=0.9),
        test_cfg=dict(nms=dict(sigma=0.4, voting_threshold=0.75))))
class_file = f'annotations/EPIC_100_{task}_classes.csv'
train_dataloader = dict(dataset=dict(task=task, class_file=class_file))
val_dataloader = dict(dataset=dict(task=task, class_file=class_file))
test_dataloader = val_dataloader

# ActionFormer's EPIC recipe: 16 epochs after 5 of warm-up.
train_cfg = dict(max_epochs=16 + 5)
