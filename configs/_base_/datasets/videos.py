# Your own videos, read end to end: ActionFormer-layout annotations
# (`annotations.json`: {"database": {video: {subset, duration, fps,
# annotations: [{segment, label, label_id}]}}}) and a folder of videos
# <video>.mp4. One snippet (feature step) every `feat_stride` frames at
# `fps`, spanning `num_frames` frames of which `clip_len` go to the video
# backbone: configs set these to the backbone's clip.
dataset_type = 'VideoTADDataset'
data_root = 'data/videos'
ann_file = 'annotations.json'
video_dir = 'videos'
max_seq_len = 128  # snippets per training window
grid = dict(fps=30.0, feat_stride=16, num_frames=16, clip_len=16)
frame_size = 160
# Deterministic, run as frames are decoded (full-size frames never pile up).
frame_transforms = [dict(type='Resize', scale=(-1, frame_size)),
                    dict(type='CenterCrop', crop_size=frame_size)]

train_pipeline = [
    dict(type='LoadSnippetGrid'),
    dict(type='RandomTemporalCrop', max_seq_len=max_seq_len),
    dict(type='LoadSnippetFrames', frame_transforms=frame_transforms),
    dict(type='PackTADSnippets'),
]
test_pipeline = [
    dict(type='LoadSnippetGrid'),
    dict(type='LoadSnippetFrames', frame_transforms=frame_transforms),
    dict(type='PackTADSnippets'),
]
dataset = dict(type=dataset_type, data_root=data_root, ann_file=ann_file,
               video_dir=video_dir, **grid)
train_dataloader = dict(
    batch_size=2, num_workers=2, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(subset='train', filter_empty_gt=True,
                 pipeline=train_pipeline, **dataset))
val_dataloader = dict(
    batch_size=1, num_workers=2, persistent_workers=True,
    sampler=dict(type='LengthSortedSampler'),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(subset='val', test_mode=True, pipeline=test_pipeline,
                 **dataset))
test_dataloader = val_dataloader
val_evaluator = dict(type='TADMetric',
                     tiou_thresholds=(0.1, 0.2, 0.3, 0.4, 0.5))
test_evaluator = val_evaluator
