# ASL on MultiTHUMOS (65 classes) with the RGB half of the THUMOS14 I3D
# features (1024-d, feat_stride 4). Data and schedule of TemporalMaxer's
# MultiTHUMOS recipe (configs/temporalmaxer_multithumos_i3d.yaml over the
# defaults of its libs/core/config.py, the published MultiTHUMOS config of
# this family): 3000 candidates per level, at most 300 detections per
# video, per-class Gaussian soft-NMS (sigma 0.5; its voting_thresh 0.7 is
# not set: voting only exists in class-agnostic NMS), loss normaliser init
# 100, 60 epochs after 5 of warm-up, lr 1e-4, batch 2.
# TemporalMaxer's detector (max-pooling backbone, SimOTA assignment) is not
# ASL's: the detector is ActionFormer's THUMOS14 one (6 levels, window 19,
# 4 heads, 512-d, centre sampling radius 1.5: _base_/models/
# asl_thumos14_detector.py), as in asl_thumos14_i3d.py.
_base_ = [
    '../_base_/models/asl_thumos14_detector.py',
    '../_base_/datasets/multithumos.py',
    '../_base_/schedules/adamw_cosine_warmup.py',
    '../_base_/default_runtime.py'
]
model = dict(
    data_preprocessor=dict(max_seq_len={{_base_.max_seq_len}}),
    backbone=dict(in_channels=1024, max_seq_len={{_base_.max_seq_len}}),
    head=dict(num_classes=65,
              test_cfg=dict(nms_pre=3000, max_per_video=300)))

# TemporalMaxer's MultiTHUMOS recipe: 60 epochs after 5 of warm-up.
train_cfg = dict(max_epochs=60 + 5)
