# ASL on EPIC-Kitchens-100 nouns (300 classes): as the verb config, with
# ActionFormer's 30 epochs after 5 of warm-up.
_base_ = ['./asl_epic_kitchens_100_verb.py']
task = 'noun'
model = dict(head=dict(num_classes=300))
class_file = f'annotations/EPIC_100_{task}_classes.csv'
train_dataloader = dict(dataset=dict(task=task, class_file=class_file))
val_dataloader = dict(dataset=dict(task=task, class_file=class_file))
test_dataloader = val_dataloader

max_epochs, warmup_epochs = 35, 5
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0,
         end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=warmup_epochs,
         end=max_epochs, T_max=max_epochs - warmup_epochs, eta_min=0.0,
         convert_to_iter_based=True),
]
