# ASL on Ego4D-MQ with SlowFast + Omnivore features (2304 + 1536).
# ActionFormer publishes no recipe for this pair: this is its SlowFast +
# Omnivore + EgoVLP recipe (asl_ego4d_mq_slowfast_omnivore_egovlp.py) without
# the EgoVLP stream, the two streams projected to 512 each so the pyramid
# stays 1024-d with 16 heads.
_base_ = ['./asl_ego4d_mq_slowfast_omnivore_egovlp.py']
feat_dirs = ['features/slowfast', 'features/omnivore']
feat_dims = [2304, 1536]
model = dict(backbone=dict(in_channels=feat_dims, stream_channels=[512, 512]))
train_dataloader = dict(dataset=dict(feat_dirs=feat_dirs, feat_dims=feat_dims))
val_dataloader = dict(dataset=dict(feat_dirs=feat_dirs, feat_dims=feat_dims))
test_dataloader = val_dataloader
