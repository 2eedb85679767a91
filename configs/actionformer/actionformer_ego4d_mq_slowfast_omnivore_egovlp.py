# ActionFormer twin of configs/asl/asl_ego4d_mq_slowfast_omnivore_egovlp.py: same model, data and
# schedule, every ASL component off.
_base_ = ['../asl/asl_ego4d_mq_slowfast_omnivore_egovlp.py']
model = dict(
    head=dict(class_sensitivity=None, instance_sensitivity=None,
              contrastive_loss=None, video_loss=None))
