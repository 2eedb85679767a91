# ActionFormer twin of configs/asl/asl_demo.py: same model, data and
# schedule, every ASL component off.
_base_ = ['../asl/asl_demo.py']
model = dict(
    head=dict(class_sensitivity=None, instance_sensitivity=None,
              contrastive_loss=None, video_loss=None))
work_dir = './work_dirs/actionformer_demo'
