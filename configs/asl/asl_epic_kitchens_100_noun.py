# ASL on EPIC-Kitchens-100 nouns (300 classes): the verb config with
# ActionFormer's noun recipe (configs/epic_slowfast_noun.yaml), which adds
# label smoothing 0.1.
_base_ = ['./asl_epic_kitchens_100_verb.py']
task = 'noun'
model = dict(head=dict(num_classes=300, label_smoothing=0.1))
class_file = f'annotations/EPIC_100_{task}_classes.csv'
train_dataloader = dict(dataset=dict(task=task, class_file=class_file))
val_dataloader = dict(dataset=dict(task=task, class_file=class_file))
test_dataloader = val_dataloader
