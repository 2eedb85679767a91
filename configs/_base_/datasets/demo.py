# The embedded demo data (generated on first use under data/demo): Ego4D-MQ
# clip layout, 48 training and 16 validation clips of 60-200 s, 6 classes,
# 32-channel features at 1.875 per second.
dataset_type = 'DemoTADDataset'
data_root = 'data/demo'
max_seq_len = 384
feat_cfg = dict(fps=30.0, feat_stride=16, num_frames=16)

train_pipeline = [
    dict(type='LoadTADFeatures'),
    dict(type='RandomTemporalCrop', max_seq_len=max_seq_len),
    dict(type='PackTADInputs'),
]
test_pipeline = [
    dict(type='LoadTADFeatures'),
    dict(type='PackTADInputs'),
]
train_dataloader = dict(
    batch_size=2, num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, subset='train',
                 filter_empty_gt=True, pipeline=train_pipeline, **feat_cfg))
val_dataloader = dict(
    batch_size=4, num_workers=0,
    # longest videos first: batches of similar length, little padding
    sampler=dict(type='LengthSortedSampler'),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, subset='val',
                 test_mode=True, pipeline=test_pipeline, **feat_cfg))
test_dataloader = val_dataloader
val_evaluator = dict(type='TADMetric', dataset_name='ego4d_mq')
test_evaluator = val_evaluator
