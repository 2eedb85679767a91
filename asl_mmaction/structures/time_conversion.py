"""Seconds <-> feature steps, as the ActionFormer family converts them.

A feature at step ``i`` covers frames ``[i * feat_stride, i * feat_stride +
num_frames)``; its centre is at frame ``i * feat_stride + num_frames / 2``.
With ``feat_offset = 0.5 * num_frames / feat_stride`` (in steps)::

    step    = t * fps / feat_stride - feat_offset
    seconds = (step + feat_offset) * feat_stride / fps
"""


def seconds_to_steps(t, fps, feat_stride, feat_offset):
    """Seconds (float / array / tensor) -> feature steps."""
    return t * fps / feat_stride - feat_offset


def steps_to_seconds(step, fps, feat_stride, feat_offset):
    """Feature steps (float / array / tensor) -> seconds."""
    return (step + feat_offset) * feat_stride / fps
