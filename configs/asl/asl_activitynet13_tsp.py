# ASL on ActivityNet-1.3 with TSP features (512-d) resized to 192 steps.
# ActionFormer's ActivityNet recipe (configs/anet_tsp.yaml over the defaults
# of libs/core/config.py): a class-agnostic (1-class) detector; 6 levels
# (192 -> 6 steps), attention windows 7, 7, 7, 7, 7 and global on the
# coarsest level, 4 heads, 256-d embedding / pyramid / heads, absolute
# position encoding, drop-path 0.1, regression ranges (0,4) .. (64,inf),
# label smoothing 0.1, regression loss weight 2, loss normaliser init 200;
# at test time 2000 candidates per level, class-agnostic Gaussian soft-NMS
# (sigma 0.75) with boundary voting 0.9, at most 100 detections per video,
# then each detection labelled with the video's top-2 classes of the CUHK
# video classifier (the metric's score_fusion, set in the dataset base);
# 10 epochs after 5 of warm-up, lr 1e-3, batch 16.
_base_ = [
    '../_base_/models/asl_convtransformer.py',
    '../_base_/datasets/activitynet13.py',
    '../_base_/schedules/adamw_cosine_warmup.py',
    '../_base_/default_runtime.py'
]
channels = 256
model = dict(
    data_preprocessor=dict(max_seq_len={{_base_.max_seq_len}}),
    backbone=dict(in_channels=512, embed_channels=channels, arch=(2, 2, 5),
                  num_heads=4, window_size=(7, 7, 7, 7, 7, -1),
                  with_abs_pe=True, max_seq_len={{_base_.max_seq_len}},
                  attn_drop=0.0,
                  proj_drop=0.0, path_drop=0.1),
    neck=dict(in_channels=channels, out_channels=channels, num_levels=6),
    head=dict(
        num_classes=1, in_channels=channels, feat_channels=channels,
        strides=(1, 2, 4, 8, 16, 32),
        regress_ranges=((0, 4), (4, 8), (8, 16), (16, 32), (32, 64),
                        (64, 10000)),
        center_sample_radius=1.5, label_smoothing=0.1,
        loss_reg=dict(type='DIoULoss1D', loss_weight=2.0),
        loss_normalizer=dict(init=200.0, momentum=0.9),
        test_cfg=dict(
            score_thr=0.001, nms_pre=2000, min_duration=0.001,
            max_per_video=100,
            nms=dict(method='soft_gaussian', iou_threshold=0.1, sigma=0.75,
                     min_score=0.001, voting_threshold=0.9,
                     class_agnostic=True))))
optim_wrapper = dict(optimizer=dict(lr=1e-3))
auto_scale_lr = dict(base_batch_size=16)

# ActionFormer's ActivityNet recipe: 10 epochs after 5 of warm-up.
train_cfg = dict(max_epochs=10 + 5)
