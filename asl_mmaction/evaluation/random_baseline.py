"""Chance level: score random segments with the same metric as the model.

Used by the demo and its tests to show that the detector's mAP is well above
what guessing gets on the same videos.
"""
from typing import Dict, List

import numpy as np
import torch
from mmengine.evaluator import BaseMetric


def dataset_ground_truth(dataset) -> List[dict]:
    """``video_name``, ``duration``, ``ann_segments``, ``ann_labels`` of
    every video of a TAD dataset (through its pipeline's packed metainfo)."""
    keys = ('video_name', 'duration', 'ann_segments', 'ann_labels')
    videos = []
    for idx in range(len(dataset)):
        meta = dataset[idx]['data_samples'].metainfo
        videos.append({k: meta[k] for k in keys})
    return videos


def random_predictions(videos: List[dict], num_classes: int,
                       per_video: int = 100, seed: int = 0) -> List[dict]:
    """Random segments for each video, in the metric's input layout.

    Args:
        videos (list[dict]): ``video_name``, ``duration``, ``ann_segments``,
            ``ann_labels`` of each video.
        num_classes (int): Labels are drawn uniformly from it.
        per_video (int): Segments per video.

    Returns:
        list[dict]: ``videos`` entries with ``pred_instances`` added:
        durations log-uniform between 1 s and half the video, starts
        uniform, labels and scores uniform.
    """
    rng = np.random.default_rng(seed)
    samples = []
    for video in videos:
        duration = float(video['duration'])
        lengths = np.exp(rng.uniform(0.0, np.log(max(duration / 2, 1.0)),
                                     per_video))
        starts = rng.uniform(0.0, np.maximum(duration - lengths, 0.0))
        segments = np.stack([starts, np.minimum(starts + lengths, duration)],
                            axis=1)
        samples.append(dict(
            video, pred_instances=dict(
                segments=torch.as_tensor(segments, dtype=torch.float32),
                scores=torch.as_tensor(rng.uniform(size=per_video),
                                       dtype=torch.float32),
                labels=torch.as_tensor(
                    rng.integers(num_classes, size=per_video)))))
    return samples


def random_baseline_metrics(metric: BaseMetric, videos: List[dict],
                            num_classes: int, per_video: int = 100,
                            seed: int = 0) -> Dict[str, float]:
    """``metric``'s results for :func:`random_predictions` on ``videos``."""
    metric.results.clear()
    metric.process({}, random_predictions(videos, num_classes, per_video,
                                          seed))
    results = metric.compute_metrics(metric.results)
    metric.results.clear()
    return results
