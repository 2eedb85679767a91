# ASL on THUMOS14 with two-stream I3D features (2048-d, feat_stride 4).
# ActionFormer's THUMOS14 recipe (configs/thumos_i3d.yaml over the defaults
# of libs/core/config.py): 6 levels (strides 1..32), local attention window
# 19, 4 heads, 512-d embedding / pyramid / heads, no absolute position
# encoding, drop-path 0.1, regression ranges (0,4) .. (64,inf), centre
# sampling radius 1.5, loss normaliser init 100; at test time 2000
# candidates per level, per-class Gaussian soft-NMS (sigma 0.5), at most 200
# detections per video (its voting_thresh 0.7 is not set: voting only
# exists in class-agnostic NMS); 30 epochs after 5 of warm-up, lr 1e-4,
# batch 2.
# (ActionFormer's max_buffer_len_factor 6 caps its point buffer at 6 x 2304
# steps; inference here takes any length, so it has no counterpart.)
_base_ = [
    '../_base_/models/asl_convtransformer.py',
    '../_base_/datasets/thumos14.py',
    '../_base_/schedules/adamw_cosine_warmup.py',
    '../_base_/default_runtime.py'
]
model = dict(
    data_preprocessor=dict(max_seq_len={{_base_.max_seq_len}}),
    backbone=dict(in_channels=2048, embed_channels=512, arch=(2, 2, 5),
                  num_heads=4, window_size=19, with_abs_pe=False,
                  max_seq_len={{_base_.max_seq_len}},
                  attn_drop=0.0, proj_drop=0.0,
                  path_drop=0.1),
    neck=dict(in_channels=512, out_channels=512, num_levels=6),
    head=dict(
        num_classes=20, in_channels=512, feat_channels=512,
        strides=(1, 2, 4, 8, 16, 32),
        regress_ranges=((0, 4), (4, 8), (8, 16), (16, 32), (32, 64),
                        (64, 10000)),
        center_sample_radius=1.5, label_smoothing=0.0,
        loss_normalizer=dict(init=100.0, momentum=0.9),
        test_cfg=dict(
            score_thr=0.001, nms_pre=2000, min_duration=0.05,
            max_per_video=200,
            nms=dict(method='soft_gaussian', iou_threshold=0.1, sigma=0.5,
                     min_score=0.001, class_agnostic=False))))

# ActionFormer's THUMOS14 recipe: 30 epochs after 5 of warm-up.
train_cfg = dict(max_epochs=30 + 5)
