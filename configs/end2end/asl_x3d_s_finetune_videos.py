# X3D-S fine-tuned end to end: its stem and first stage stay fixed, the rest
# trains at a tenth of the learning rate with gradient checkpointing;
# BatchNorm statistics stay those of Kinetics (norm_eval), see
# docs/videos.md for why.
_base_ = ['./asl_x3d_s_frozen_videos.py']
model = dict(
    backbone=dict(freeze=('conv1_s', 'conv1_t', 'layer1'), norm_eval=True,
                  with_cp=True, snippets_per_pass=32))
optim_wrapper = dict(paramwise_cfg=dict(
    custom_keys={'backbone.video_backbone': dict(lr_mult=0.1)}))
work_dir = './work_dirs/asl_x3d_s_finetune_videos'
