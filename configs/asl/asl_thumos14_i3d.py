# ASL on THUMOS14 with two-stream I3D features (2048-d, feat_stride 4).
# ActionFormer's THUMOS14 recipe (configs/thumos_i3d.yaml over the defaults
# of libs/core/config.py): its detector (_base_/models/
# asl_thumos14_detector.py: 6 levels, window 19, 4 heads, 512-d, per-class
# Gaussian soft-NMS sigma 0.5), 2000 candidates per level at test time, at
# most 200 detections per video; 30 epochs after 5 of warm-up, lr 1e-4,
# batch 2.
# (ActionFormer's max_buffer_len_factor 6 caps its point buffer at 6 x 2304
# steps; inference here takes any length, so it has no counterpart.)
_base_ = [
    '../_base_/models/asl_thumos14_detector.py',
    '../_base_/datasets/thumos14.py',
    '../_base_/schedules/adamw_cosine_warmup.py',
    '../_base_/default_runtime.py'
]
model = dict(
    data_preprocessor=dict(max_seq_len={{_base_.max_seq_len}}),
    backbone=dict(in_channels=2048, max_seq_len={{_base_.max_seq_len}}),
    head=dict(num_classes=20,
              test_cfg=dict(nms_pre=2000, max_per_video=200)))

# ActionFormer's THUMOS14 recipe: 30 epochs after 5 of warm-up.
train_cfg = dict(max_epochs=30 + 5)
