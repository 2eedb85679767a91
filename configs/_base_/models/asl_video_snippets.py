# ASL end to end from video frames: an MMAction2 video backbone inside
# VideoSnippetEncoder gives one vector per snippet, then the same
# conv-transformer, neck and ASL head as the feature-based configs.
# Configs set `video_backbone`, `pretrained`, the temporal backbone's
# `in_channels` (the video backbone's pooled channels) and the lengths.
_base_ = ['./asl_convtransformer.py']
model = dict(
    # pad_divisor is left to the detector: the temporal backbone's stride
    data_preprocessor=dict(
        _delete_=True, type='SnippetDataPreprocessor', max_seq_len=2304,
        mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
        format_shape='NCTHW'),
    backbone=dict(
        _delete_=True,
        type='VideoSnippetEncoder',
        pretrained=None,
        freeze='all',
        norm_eval=True,
        with_cp=False,
        snippets_per_pass=32,
        temporal_backbone={{_base_.model.backbone}}))
