# ASL on ActionFormer's conv-transformer: 6 pyramid levels (strides 1..32),
# local attention window 9, identity neck with LayerNorm, shared heads.
# Dataset configs set `in_channels`, `num_classes` and the lengths.
num_levels = 6
model = dict(
    type='ASLDetector',
    data_preprocessor=dict(
        type='ASLDataPreprocessor', max_seq_len=2304,
        # the coarsest level's stride; the windowed attention needs no more
        # (ActionFormer pads to stride x window, which only costs time)
        pad_divisor=32),
    backbone=dict(
        type='ConvTransformerBackbone',
        in_channels=2304,
        embed_channels=512,
        embed_kernel_size=3,
        embed_with_ln=True,
        arch=(2, 2, num_levels - 1),
        num_heads=4,
        window_size=9,
        scale_factor=2,
        with_abs_pe=False,
        max_seq_len=2304,
        attn_drop=0.0,
        proj_drop=0.0,
        path_drop=0.1),
    neck=dict(
        type='IdentityPyramidNeck', in_channels=512, out_channels=512,
        num_levels=num_levels, with_ln=True),
    head=dict(
        type='ASLHead',
        num_classes=97,
        in_channels=512,
        feat_channels=512,
        num_convs=2,
        kernel_size=3,
        with_ln=True,
        prior_prob=0.01,
        strides=(1, 2, 4, 8, 16, 32),
        regress_ranges=((0, 4), (4, 8), (8, 16), (16, 32), (32, 64),
                        (64, 10000)),
        center_sample_radius=1.5,
        label_smoothing=0.0,
        loss_cls=dict(type='SigmoidFocalLoss', alpha=0.25, gamma=2.0,
                      loss_weight=1.0),
        loss_reg=dict(type='DIoULoss1D', loss_weight=1.0),
        loss_normalizer=dict(init=100.0, momentum=0.9),
        # --- ASL (training only); set all four to None for ActionFormer.
        # The head fills in num_classes / in_channels. ---
        class_sensitivity=dict(type='ClassSensitivityEvaluator',
                               mode='normalized'),
        instance_sensitivity=dict(type='InstanceSensitivityEvaluator'),
        contrastive_loss=dict(type='ActionSensitiveContrastiveLoss',
                              temperature=0.1, loss_weight=0.1),
        video_loss=None,
        test_cfg=dict(
            score_thr=0.001, nms_pre=5000, min_duration=0.05,
            max_per_video=2000,
            nms=dict(method='soft_gaussian', iou_threshold=0.1, sigma=0.5,
                     min_score=0.001, voting_threshold=0.75,
                     class_agnostic=False))))
