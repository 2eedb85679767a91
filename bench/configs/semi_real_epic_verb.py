# Semi-real EPIC-Kitchens-100 verbs (bench/semi_real_data.py): the
# *changes* bench/bench_sensitivity.py merges onto the project's EPIC verb
# configs (configs/asl/asl_epic_kitchens_100_verb.py and its ActionFormer
# twin), so the bench follows every other setting of those configs (model,
# losses, crop, test-time NMS, optimizer groups, scheduler types).
# Not a config of its own: run the bench, or train the config it dumps
# into each run's work dir (<work_dir>/bench_config.py) with tools/train.py.
#
# Data: 104 training / 34 validation videos of the real EPIC validation
# annotations, generated 64-channel features in ActionFormer's EPIC layout
# (JSON + one .npz per video). The bench sets data_root to the generated
# folder. Model: ActionFormer's EPIC architecture (6 levels, window 9,
# max_seq_len 2304, EPIC regression ranges) at width 64 instead of 512, so
# a run fits a few minutes of 2 CPU cores.
feat_channels = 64
channels = 64
ann_file = 'annotations/semi_real_epic_verb.json'
dataset = dict(ann_file=ann_file, feat_dirs=['features'],
               feat_dims=[feat_channels], feat_suffix='.npz')
loader = dict(num_workers=0, persistent_workers=False)
train_dataloader = dict(dataset=dict(subset='train', **dataset), **loader)
val_dataloader = dict(dataset=dict(subset='val', **dataset), **loader)
test_dataloader = val_dataloader
model = dict(
    backbone=dict(in_channels=feat_channels, embed_channels=channels),
    neck=dict(in_channels=channels, out_channels=channels),
    head=dict(in_channels=channels, feat_channels=channels))
