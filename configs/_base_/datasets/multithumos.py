# MultiTHUMOS (65 classes, dense multi-label labels of the THUMOS14 videos)
# with the RGB half of ActionFormer's THUMOS14 I3D features (channels
# 0..1023 of the 2048-d .npy files), feat_stride 4, 16-frame clips, each
# video's duration and fps from ActionFormer's thumos14.json. Train on the
# validation videos, test on the test videos. Recipe: TemporalMaxer's
# configs/temporalmaxer_multithumos_i3d.yaml (input_dim 1024, max_seq_len
# 2304, trunc_thresh 0.5, crop_ratio (0.9, 1.0), batch 2).
dataset_type = 'MultiThumosDataset'
data_root = 'data/multithumos'
# the release's per-class files, with durations and fps from ActionFormer's
# thumos14.json (or an ActivityNet-style JSON such as TemporalMaxer's
# multithumos.json as ann_file, which needs neither)
ann_file = 'annotations/multithumos/annotations'
max_seq_len = 2304
feat_cfg = dict(
    class_file='annotations/multithumos/class_list.txt',
    video_info_file='annotations/thumos14.json',
    feat_dirs=['i3d_features'], feat_dims=[2048], feat_suffix='.npy',
    feat_layout='TC', feat_stride=4, num_frames=16)
rgb_channels = dict(type='SelectFeatureChannels', start=0, stop=1024)

train_pipeline = [
    dict(type='LoadTADFeatures'), rgb_channels,
    dict(type='RandomTemporalCrop', max_seq_len=max_seq_len,
         min_overlap=0.5, crop_ratio=(0.9, 1.0)),
    dict(type='PackTADInputs'),
]
test_pipeline = [dict(type='LoadTADFeatures'), rgb_channels,
                 dict(type='PackTADInputs')]
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
# mAP at tIoU 0.1:0.9:0.1 (the metric's MultiTHUMOS set)
val_evaluator = dict(type='TADMetric', dataset_name='multithumos',
                     protocol='official')
test_evaluator = val_evaluator
