# THUMOS14 (20 classes) with ActionFormer's two-stream I3D features: 2048-d,
# one step every 4 frames (feat_stride 4) over 16-frame clips, at each
# video's fps from thumos14.json; one .npy per video. By convention the
# model trains on the 200 validation videos and is tested on the 212 test
# videos. Recipe: ActionFormer's configs/thumos_i3d.yaml (max_seq_len 2304,
# trunc_thresh 0.5, crop_ratio (0.9, 1.0), batch 2). Layout: docs/datasets.md.
dataset_type = 'Thumos14Dataset'
data_root = 'data/thumos14'
ann_file = 'annotations/thumos14.json'
max_seq_len = 2304
feat_cfg = dict(
    feat_dirs=['i3d_features'], feat_dims=[2048], feat_suffix='.npy',
    feat_layout='TC', feat_stride=4, num_frames=16)

train_pipeline = [
    dict(type='LoadTADFeatures'),
    dict(type='RandomTemporalCrop', max_seq_len=max_seq_len,
         min_overlap=0.5, crop_ratio=(0.9, 1.0)),
    dict(type='PackTADInputs'),
]
test_pipeline = [dict(type='LoadTADFeatures'), dict(type='PackTADInputs')]
train_dataloader = dict(
    batch_size=2, num_workers=4, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, ann_file=ann_file,
                 subset='val', filter_empty_gt=True,
                 pipeline=train_pipeline, **feat_cfg))
val_dataloader = dict(
    batch_size=2, num_workers=4, persistent_workers=True,
    # longest videos first: batches of similar length, little padding
    sampler=dict(type='LengthSortedSampler'),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, ann_file=ann_file,
                 subset='test', test_mode=True, pipeline=test_pipeline,
                 **feat_cfg))
test_dataloader = val_dataloader
# mAP at tIoU 0.3:0.7:0.1 (the metric's THUMOS14 set)
val_evaluator = dict(type='TADMetric', dataset_name='thumos14',
                     protocol='official')
test_evaluator = val_evaluator
