# ActivityNet-1.3 (200 classes) with TSP features (512-d, 16-frame clips
# every 16 frames at 15 fps, one .npy per video named v_<id>.npy), every
# video resized to 192 steps that tile the frames its clips cover
# (ActionFormer's force_upsampling: resize_span='features'). Class-agnostic
# training (a 1-class detector); the metric scores the real 200 classes
# once each detection is labelled by video-level class scores
# (asl_mmaction/post_processing/score_fusion.py). Train on training, test
# on validation; videos without features are skipped (ActionFormer's
# anet1.3_tsp_filtered.json leaves them out too). Recipe: ActionFormer's
# configs/anet_tsp.yaml (trunc_thresh 0.5, crop_ratio (0.9, 1.0), batch 16).
dataset_type = 'ActivityNetTADDataset'
data_root = 'data/activitynet13'
ann_file = 'annotations/activity_net.v1-3.min.json'
max_seq_len = 192
feat_cfg = dict(
    feat_dirs=['tsp_features'], feat_prefix='v_', feat_dims=[512],
    feat_suffix='.npy', feat_layout='TC', fps=15.0, feat_stride=16,
    num_frames=16, resize_length=max_seq_len, resize_span='features',
    class_agnostic=True, skip_bad_videos=True)

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
    dataset=dict(type=dataset_type, data_root=data_root, ann_file=ann_file,
                 subset='train', filter_empty_gt=True,
                 pipeline=train_pipeline, **feat_cfg))
val_dataloader = dict(
    batch_size=16, num_workers=4, persistent_workers=True,
    # every video is 192 steps: no padding to save, the order is kept
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, ann_file=ann_file,
                 subset='val', test_mode=True, pipeline=test_pipeline,
                 **feat_cfg))
test_dataloader = val_dataloader
# mAP at tIoU 0.5:0.95:0.05 (the metric's ActivityNet set), after each
# class-agnostic detection is labelled with its video's top-2 classes of the
# CUHK video classifier, ActionFormer's fusion (eval.py --ext_score_file,
# libs/utils/postprocessing.py: sqrt(class x detection score), the best 200
# detections kept before)
val_evaluator = dict(
    type='TADMetric', dataset_name='activitynet', protocol='official',
    score_fusion=dict(
        score_file=data_root + '/annotations/cuhk_val_simp_share.json',
        topk=2, max_detections=200))
test_evaluator = val_evaluator
