# Ego4D Moment Queries, clip-level, at the features' own rate (16-frame
# stride at 30 fps; a clip of up to 8 minutes has < 1024 steps), training
# windows of 1024 steps (trunc_thresh 0.3, crop ratio 0.9-1.0), as
# ActionFormer's Ego4D recipes. Folder layout: docs/datasets.md.
dataset_type = 'Ego4DMQDataset'
data_root = 'data/ego4d'
ann_file = 'annotations/ego4d_clip_annotations.json'
max_seq_len = 1024
feat_cfg = dict(
    feat_dirs=['features/slowfast', 'features/omnivore'],
    feat_dims=[2304, 1536],
    feat_suffix='.npy', feat_layout='TC',
    fps=30.0, feat_stride=16, num_frames=32, length_align='crop')

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
    dataset=dict(type=dataset_type, data_root=data_root, ann_file=ann_file,
                 subset='train', filter_empty_gt=True,
                 pipeline=train_pipeline, **feat_cfg))
val_dataloader = dict(
    batch_size=4, num_workers=4, persistent_workers=True,
    # longest videos first: batches of similar length, little padding
    sampler=dict(type='LengthSortedSampler'),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, ann_file=ann_file,
                 subset='val', test_mode=True, pipeline=test_pipeline,
                 **feat_cfg))
test_dataloader = val_dataloader
val_evaluator = dict(type='TADMetric', dataset_name='ego4d_mq',
                     protocol='official')
test_evaluator = val_evaluator
