# Charades (157 classes, dense multi-label) from the release's CSVs, with
# the ASL authors' loader (libs/datasets/charades.py of their code): I3D RGB
# features (1024-d) in one HDF5 file keyed by video id, and fps = feature
# steps / video length, i.e. one step per feature (feat_stride 1, a 1-step
# window), as their Ego4D configs set them. Train on train, test on test.
# The authors published no Charades config: max_seq_len 768 and batch 16
# follow OpenTAD's ActionFormer recipe (configs/actionformer/
# charades_i3d_rgb.py).
dataset_type = 'CharadesDataset'
data_root = 'data/charades'
max_seq_len = 768
feat_cfg = dict(
    class_file='annotations/Charades_v1_classes.txt',
    feat_file='features/rgb_Charades_v1_480.h5', feat_dims=[1024],
    feat_layout='TC', fps_from_features=True, feat_stride=1, num_frames=1)

train_pipeline = [
    dict(type='LoadTADFeatures'),
    dict(type='RandomTemporalCrop', max_seq_len=max_seq_len,
         min_overlap=0.5, crop_ratio=(0.9, 1.0)),
    dict(type='PackTADInputs'),
]
test_pipeline = [dict(type='LoadTADFeatures'), dict(type='PackTADInputs')]
train_dataloader = dict(
    batch_size=16, num_workers=4, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type=dataset_type, data_root=data_root,
                 ann_file='annotations/Charades_v1_train.csv',
                 subset='train', filter_empty_gt=True,
                 pipeline=train_pipeline, **feat_cfg))
val_dataloader = dict(
    batch_size=16, num_workers=4, persistent_workers=True,
    # longest videos first: batches of similar length, little padding
    sampler=dict(type='LengthSortedSampler'),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type=dataset_type, data_root=data_root,
                 ann_file='annotations/Charades_v1_test.csv',
                 subset='test', test_mode=True, pipeline=test_pipeline,
                 **feat_cfg))
test_dataloader = val_dataloader
# mAP at tIoU 0.1:0.9:0.1 (the metric's Charades set)
val_evaluator = dict(type='TADMetric', dataset_name='charades',
                     protocol='official')
test_evaluator = val_evaluator
