# ASL on ActionFormer's conv-transformer, with ActionFormer's architecture
# defaults: a 2-conv embedding, 2 stem + 5 down-sampling transformer blocks
# (6 levels, strides 1..32), local attention window 9, 4 heads, drop-path
# 0.1, an identity neck with LayerNorm, and shared 3-layer heads (2 convs +
# output), everything 512-d. Nothing here depends on a dataset: experiment
# configs set in_channels, num_classes, max_seq_len (from their dataset
# base), and the recipe's regress ranges, loss normaliser and test_cfg.
num_levels = 6
model = dict(
    type='ASLDetector',
    # pad_divisor is left to the detector: the backbone's total stride
    data_preprocessor=dict(type='ASLDataPreprocessor'),
    backbone=dict(
        type='ConvTransformerBackbone',
        embed_channels=512,
        embed_kernel_size=3,
        embed_with_ln=True,
        arch=(2, 2, num_levels - 1),
        num_heads=4,
        window_size=9,
        scale_factor=2,
        with_abs_pe=False,
        attn_drop=0.0,  # ActionFormer never drops attention weights
        proj_drop=0.0,
        path_drop=0.1),
    neck=dict(
        type='IdentityPyramidNeck', in_channels=512, out_channels=512,
        num_levels=num_levels, with_ln=True),
    head=dict(
        type='ASLHead',
        in_channels=512,
        feat_channels=512,
        num_convs=2,
        kernel_size=3,
        with_ln=True,
        prior_prob=0.01,
        strides=tuple(2**i for i in range(num_levels)),
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
                               mode='fitted'),
        instance_sensitivity=dict(type='InstanceSensitivityEvaluator'),
        contrastive_loss=dict(type='ActionSensitiveContrastiveLoss',
                              temperature=0.1, loss_weight=0.1),
        video_loss=None,
        # ActionFormer's inference: per-class Gaussian soft-NMS (voting
        # only exists in its class-agnostic NMS, so none is set here)
        test_cfg=dict(
            score_thr=0.001, nms_pre=5000, min_duration=0.05,
            max_per_video=2000,
            nms=dict(method='soft_gaussian', iou_threshold=0.1, sigma=0.5,
                     min_score=0.001, class_agnostic=False))))
