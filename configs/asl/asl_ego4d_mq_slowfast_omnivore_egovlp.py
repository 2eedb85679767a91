# ASL on Ego4D-MQ with SlowFast + Omnivore + EgoVLP (2304 + 1536 + 256).
_base_ = ['./asl_ego4d_mq_slowfast_omnivore.py']
model = dict(backbone=dict(in_channels=2304 + 1536 + 256))
feat_dirs = ['features/slowfast', 'features/omnivore', 'features/egovlp']
feat_dims = [2304, 1536, 256]
train_dataloader = dict(
    dataset=dict(feat_dirs=feat_dirs, feat_dims=feat_dims))
val_dataloader = dict(dataset=dict(feat_dirs=feat_dirs, feat_dims=feat_dims))
test_dataloader = val_dataloader
