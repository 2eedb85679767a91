# ASL end to end on your videos with VideoMAE ViT-B/16 (Kinetics-400
# fine-tuned, from MMAction2's model zoo) as the snippet encoder: the patch
# embedding and the first 6 of 12 blocks stay fixed, the others train at a
# tenth of the learning rate with gradient checkpointing. Frames are 160 px
# (the position encoding is interpolated from 224).
# Set data_root (configs/_base_/datasets/videos.py layout) and num_classes.
_base_ = [
    '../_base_/models/asl_video_snippets.py', '../_base_/datasets/videos.py',
    '../_base_/schedules/adamw_cosine_warmup.py',
    '../_base_/default_runtime.py'
]
num_classes = 20
# VideoMAE's clip: 16 frames, one every 4 (a 64-frame window).
grid = dict(fps=30.0, feat_stride=16, num_frames=64, clip_len=16)
vit_channels = 768
frozen_blocks = 6
model = dict(
    # ImageNet mean / std (the base's), as VideoMAE was trained.
    data_preprocessor=dict(max_seq_len={{_base_.max_seq_len}}),
    backbone=dict(
        video_backbone=dict(
            type='VisionTransformer', img_size=224, patch_size=16,
            embed_dims=vit_channels, depth=12, num_heads=12, mlp_ratio=4,
            qkv_bias=True, num_frames=16, norm_cfg=dict(type='LN', eps=1e-6),
            drop_path_rate=0.1),
        pretrained='https://download.openmmlab.com/mmaction/v1.0/'
        'recognition/videomae/'
        'vit-base-p16_videomae-k400-pre_16x4x1_kinetics-400_20221013-'
        '860a3cd3.pth',
        freeze=['patch_embed'] +
        [f'blocks.{i}.' for i in range(frozen_blocks)],
        with_cp=True,
        snippets_per_pass=16,
        temporal_backbone=dict(in_channels=vit_channels,
                               max_seq_len={{_base_.max_seq_len}})),
    head=dict(num_classes=num_classes))
optim_wrapper = dict(paramwise_cfg=dict(
    custom_keys={'backbone.video_backbone': dict(lr_mult=0.1)}))
train_dataloader = dict(dataset=grid)
val_dataloader = dict(dataset=grid)
test_dataloader = val_dataloader
work_dir = './work_dirs/asl_videomae_vit_b_finetune_videos'
