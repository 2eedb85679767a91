"""Draw a ground truth vs prediction timeline per test video.

``tools/test.py --show-dir DIR`` adds
``dict(type='TimelineVisualizationHook', out_dir=DIR)`` to ``custom_hooks``.
Every rank draws the videos of its own batches: the distributed sampler
gives each rank distinct videos, so no gathering is needed and no file is
written twice (the sampler's padding repeats a video at most, which only
rewrites the same PNG).
"""
import os
import os.path as osp
from typing import Optional, Sequence

from mmengine.hooks import Hook
from mmaction.registry import HOOKS


@HOOKS.register_module()
class TimelineVisualizationHook(Hook):
    """Write ``<out_dir>/<video_name>.png`` for each tested video.

    Args:
        out_dir (str): output folder; a relative path is resolved under
            ``runner.work_dir``.
        score_thr (float, optional): hide predictions scoring below it.
            None: the timeline's default (no threshold).
        max_videos (int, optional): stop after this many videos on this rank
            (None: all of them).
        top_k (int, optional): the best this many predictions are drawn per
            video. None: the timeline's default (10).
    """

    priority = 'LOW'

    def __init__(self, out_dir: str, score_thr: Optional[float] = None,
                 max_videos: Optional[int] = None,
                 top_k: Optional[int] = None) -> None:
        if max_videos is not None and max_videos < 0:
            raise ValueError(f'max_videos must be >= 0, got {max_videos}')
        self.out_dir = out_dir
        self.score_thr = score_thr
        self.max_videos = max_videos
        self.top_k = top_k
        self._drawn = 0

    def before_test(self, runner) -> None:
        self._drawn = 0
        if not osp.isabs(self.out_dir):
            self.out_dir = osp.join(runner.work_dir, self.out_dir)
        os.makedirs(self.out_dir, exist_ok=True)

    def after_test_iter(self, runner, batch_idx: int, data_batch=None,
                        outputs: Optional[Sequence] = None) -> None:
        if not outputs:
            return
        # matplotlib loads on use, not when the package is imported
        from asl_mmaction.visualization.timeline import (draw_video_timeline,
                                                         safe_file_name)
        class_names = _class_names(runner)
        for sample in outputs:
            if self.max_videos is not None and \
                    self._drawn >= self.max_videos:
                return
            video = sample.to_dict() if hasattr(sample, 'to_dict') \
                else dict(sample)
            if 'pred_instances' not in video:
                raise KeyError(f'video {video.get("video_name")}: the test '
                               'output has no pred_instances to draw')
            name = safe_file_name(str(video.get('video_name', 'video')))
            options = {k: v for k, v in (('score_thr', self.score_thr),
                                         ('top_k', self.top_k))
                       if v is not None}
            fig = draw_video_timeline(
                video, osp.join(self.out_dir, f'{name}.png'), class_names,
                **options)
            del fig  # no pyplot manager holds it; freed here
            self._drawn += 1


def _class_names(runner) -> Optional[Sequence[str]]:
    """``classes`` of the test dataset's metainfo, when reachable."""
    try:
        dataset = runner.test_dataloader.dataset
    except Exception:  # dataloader not built / fake runner: use label ids
        return None
    return getattr(dataset, 'metainfo', {}).get('classes')
