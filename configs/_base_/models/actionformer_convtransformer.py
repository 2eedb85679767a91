# ActionFormer: the same detector with every ASL component switched off.
_base_ = ['./asl_convtransformer.py']
model = dict(
    head=dict(class_sensitivity=None, instance_sensitivity=None,
              contrastive_loss=None, video_loss=None))
