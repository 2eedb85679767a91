# EPIC-Kitchens-100 action detection from the official CSVs; SlowFast
# features (2304-d, 32 frames every 16 at 30 fps) as .npz per video.
# Experiment configs pick the task (verb / noun). Layout: docs/datasets.md.
dataset_type = 'EpicKitchensDataset'
data_root = 'data/epic_kitchens'
max_seq_len = 2304
common = dict(
    video_info_file='annotations/EPIC_100_video_info.csv',
    feat_dirs=['features'], feat_dims=[2304], feat_suffix='.npz',
    feat_layout='TC', fps=30.0, feat_stride=16, num_frames=32)

train_pipeline = [
    dict(type='LoadTADFeatures'),
    dict(type='RandomTemporalCrop', max_seq_len=max_seq_len,
         min_overlap=0.3, crop_ratio=(0.9, 1.0)),
    dict(type='PackTADInputs'),
]
test_pipeline = [dict(type='LoadTADFeatures'), dict(type='PackTADInputs')]
train_dataloader = dict(
    batch_size=2, num_workers=4, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type=dataset_type, data_root=data_root,
                 ann_file='annotations/EPIC_100_train.csv', subset='train',
                 filter_empty_gt=True, pipeline=train_pipeline, **common))
val_dataloader = dict(
    batch_size=2, num_workers=4, persistent_workers=True,
    # longest videos first: batches of similar length, little padding
    sampler=dict(type='LengthSortedSampler'),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type=dataset_type, data_root=data_root,
                 ann_file='annotations/EPIC_100_validation.csv',
                 subset='val', test_mode=True, pipeline=test_pipeline,
                 **common))
test_dataloader = val_dataloader
val_evaluator = dict(type='TADMetric', dataset_name='epic_kitchens_100',
                     protocol='official')
test_evaluator = val_evaluator
