# ActionFormer's THUMOS14 detector (configs/thumos_i3d.yaml over the
# defaults of libs/core/config.py), shared by the THUMOS14 and MultiTHUMOS
# configs: 6 levels (strides 1..32), local attention window 19, 4 heads,
# 512-d embedding / pyramid / heads, no absolute position encoding,
# drop-path 0.1, regression ranges (0,4) .. (64,inf), centre sampling
# radius 1.5, loss normaliser init 100; at test time per-class Gaussian
# soft-NMS (sigma 0.5; its voting_thresh 0.7 is not set: voting only exists
# in class-agnostic NMS). Experiment configs set in_channels, num_classes,
# max_seq_len (from their dataset base), nms_pre and max_per_video.
_base_ = ['./asl_convtransformer.py']
model = dict(
    backbone=dict(embed_channels=512, arch=(2, 2, 5), num_heads=4,
                  window_size=19, with_abs_pe=False, attn_drop=0.0,
                  proj_drop=0.0, path_drop=0.1),
    neck=dict(in_channels=512, out_channels=512, num_levels=6),
    head=dict(
        in_channels=512, feat_channels=512,
        strides=(1, 2, 4, 8, 16, 32),
        regress_ranges=((0, 4), (4, 8), (8, 16), (16, 32), (32, 64),
                        (64, 10000)),
        center_sample_radius=1.5, label_smoothing=0.0,
        loss_normalizer=dict(init=100.0, momentum=0.9),
        test_cfg=dict(
            score_thr=0.001, min_duration=0.05,
            nms=dict(method='soft_gaussian', iou_threshold=0.1, sigma=0.5,
                     min_score=0.001, class_agnostic=False))))
