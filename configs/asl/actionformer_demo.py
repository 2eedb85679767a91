# ActionFormer twin of asl_demo.py: the same model and budget, ASL off.
_base_ = ['./asl_demo.py']
model = dict(
    head=dict(class_sensitivity=None, instance_sensitivity=None,
              contrastive_loss=None, video_loss=None))
work_dir = './work_dirs/actionformer_demo'
