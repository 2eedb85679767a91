# ASL end to end on your videos with a frozen X3D-S (Kinetics-400, from
# MMAction2's model zoo) as the snippet encoder: the backbone is fixed, its
# snippet vectors are cached on the fly, so from the second epoch only the
# conv-transformer, neck and head cost time (the frames are still decoded).
# Set data_root (configs/_base_/datasets/videos.py layout) and num_classes.
_base_ = [
    '../_base_/models/asl_video_snippets.py', '../_base_/datasets/videos.py',
    '../_base_/schedules/adamw_cosine_warmup.py',
    '../_base_/default_runtime.py'
]
num_classes = 20
# X3D-S's clip: 13 frames, one every 6 (a 78-frame window), 160 px.
grid = dict(fps=30.0, feat_stride=16, num_frames=78, clip_len=13)
x3d_channels = 432
model = dict(
    data_preprocessor=dict(max_seq_len={{_base_.max_seq_len}},
                           mean=[114.75, 114.75, 114.75],
                           std=[57.38, 57.38, 57.38]),
    backbone=dict(
        video_backbone=dict(type='X3D', gamma_w=1, gamma_b=2.25,
                            gamma_d=2.2),
        pretrained='https://download.openmmlab.com/mmaction/v1.0/'
        'recognition/x3d/facebook/'
        'x3d_s_13x6x1_facebook-kinetics400-rgb_20201027-623825a0.pth',
        freeze='all',
        snippets_per_pass=64,
        temporal_backbone=dict(in_channels=x3d_channels,
                               max_seq_len={{_base_.max_seq_len}})),
    head=dict(num_classes=num_classes))
train_dataloader = dict(dataset=grid)
val_dataloader = dict(dataset=grid)
test_dataloader = val_dataloader
work_dir = './work_dirs/asl_x3d_s_frozen_videos'
