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
# 4 heads, 512-d, centre sampling radius 1.5), as in asl_thumos14_i3d.py.
_base_ = [
    '../_base_/models/asl_convtransformer.py',
    '../_base_/datasets/multithumos.py',
    '../_base_/schedules/adamw_cosine_warmup.py',
    '../_base_/default_runtime.py'
]
model = dict(
    data_preprocessor=dict(max_seq_len={{_base_.max_seq_len}}),
    backbone=dict(in_channels=1024, embed_channels=512, arch=(2, 2, 5),
                  num_heads=4, window_size=19, with_abs_pe=False,
                  max_seq_len={{_base_.max_seq_len}},
                  attn_drop=0.0, proj_drop=0.0,
                  path_drop=0.1),
    neck=dict(in_channels=512, out_channels=512, num_levels=6),
    head=dict(
        num_classes=65, in_channels=512, feat_channels=512,
        strides=(1, 2, 4, 8, 16, 32),
        regress_ranges=((0, 4), (4, 8), (8, 16), (16, 32), (32, 64),
                        (64, 10000)),
        center_sample_radius=1.5, label_smoothing=0.0,
        loss_normalizer=dict(init=100.0, momentum=0.9),
        test_cfg=dict(
            score_thr=0.001, nms_pre=3000, min_duration=0.05,
            max_per_video=300,
            nms=dict(method='soft_gaussian', iou_threshold=0.1, sigma=0.5,
                     min_score=0.001, class_agnostic=False))))

# TemporalMaxer's MultiTHUMOS recipe: 60 epochs after 5 of warm-up.
train_cfg = dict(max_epochs=60 + 5)
