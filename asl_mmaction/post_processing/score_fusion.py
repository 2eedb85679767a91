"""Label class-agnostic detections with external video-level class scores.

ActionFormer's ActivityNet-1.3 recipe trains a 1-class detector and, at
test time, gives each video's detections the video's top-k classes of an
external video classifier (the CUHK ActivityNet-2017 classifier,
``cuhk_val_simp_share.json``). For one video with detections ``(s_i,
segment_i)`` sorted by score (at most ``max_detections`` kept) and
classifier scores ``c`` over the classes, the fused detections are, for
each of the ``topk`` best classes ``k`` in turn and each detection ``i``::

    segment_i, label k, score sqrt(c_k * s_i)

so ``topk * min(N, max_detections)`` detections, grouped by class (best
class first), detections in score order within each group. (ActionFormer:
``libs/utils/postprocessing.py``, ``postprocess_results`` with its
defaults ``num_pred=200``, ``topk=2``.)

Pure numpy functions: :func:`read_video_scores` reads a score file once;
:func:`fuse_video_scores` fuses one video; :func:`fuse_predictions` does
every video of a prediction dict (``tools/eval_predictions.py
--ext-score-file``).
"""
import json
import os.path as osp
import pickle
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from asl_mmaction.datasets.tad_errors import TADDataError


def read_video_scores(path: str,
                      class_names: Optional[Sequence[str]] = None
                      ) -> Dict[str, np.ndarray]:
    """Video-level class scores from a file, in the dataset's class order.

    Files:

    * ``.json`` ``{"results": {video: [K scores]}, "class": [K names]}``
      (the CUHK ActivityNet file; ``"class"`` optional) or a plain
      ``{video: [K scores]}``;
    * ``.pkl`` / ``.pickle``: a pickled ``{video: [K scores]}`` (e.g.
      ActionFormer's THUMOS14 file). Unpickling runs code: read only files
      you trust.

    Args:
        path (str): The score file.
        class_names (sequence[str], optional): The dataset's classes. When
            the file names its classes, the columns are reordered to these
            (every dataset class must be in the file); otherwise column
            ``k`` is taken to be class ``k`` and the count must match.

    Returns:
        dict: ``video -> float64 [num_classes]`` (``K`` columns when
        neither the file nor ``class_names`` gives names).
    """
    if not osp.isfile(path):
        raise TADDataError(f'score file not found: {path}')
    if path.lower().endswith(('.pkl', '.pickle')):
        with open(path, 'rb') as f:
            data = pickle.load(f)
    else:
        try:
            with open(path, encoding='utf-8') as f:
                data = json.load(f)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise TADDataError(f'score file {path} is not valid JSON: '
                               f'{exc}') from exc
    file_classes = None
    if isinstance(data, dict) and isinstance(data.get('results'), dict):
        file_classes = data.get('class')
        data = data['results']
    if not isinstance(data, dict) or not data:
        raise TADDataError(f'{path}: expected {{video: [scores]}} (or under '
                           '"results"), found no video')
    scores = {}
    for video, values in data.items():
        array = np.asarray(values, dtype=np.float64).reshape(-1)
        if not np.isfinite(array).all():
            raise TADDataError(f'{path}: video {video} has non-finite '
                               'scores')
        scores[str(video)] = array
    widths = {a.shape[0] for a in scores.values()}
    if len(widths) != 1:
        raise TADDataError(f'{path}: videos have different numbers of '
                           f'class scores {sorted(widths)}')
    width = widths.pop()
    if file_classes is not None:
        if len(file_classes) != width:
            raise TADDataError(f'{path}: {len(file_classes)} class names '
                               f'but {width} scores per video')
        if class_names is not None:
            column = {str(n): i for i, n in enumerate(file_classes)}
            missing = [n for n in class_names if n not in column]
            if missing:
                raise TADDataError(f'{path}: classes {missing[:5]} of the '
                                   'dataset have no score in the file')
            order = np.asarray([column[n] for n in class_names])
            scores = {v: a[order] for v, a in scores.items()}
    elif class_names is not None and width != len(class_names):
        raise TADDataError(f'{path}: {width} scores per video but the '
                           f'dataset has {len(class_names)} classes (and '
                           'the file does not name its classes)')
    return scores


def fuse_video_scores(segments: np.ndarray, scores: np.ndarray,
                      video_scores: np.ndarray, topk: int = 2,
                      max_detections: int = 200
                      ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One video's class-agnostic detections x its top-k video classes.

    Args:
        segments (ndarray): ``[N, 2]`` detections (any unit, kept as is).
        scores (ndarray): ``[N]`` their scores in ``[0, 1]``.
        video_scores (ndarray): ``[K]`` the video's class scores.
        topk (int): Classes given to every detection.
        max_detections (int): Detections kept (best first) before fusion.

    Returns:
        tuple: ``segments [M, 2]``, ``scores [M]`` (``sqrt(class score x
        detection score)``) and ``labels [M]`` (int64 class ids), ``M =
        min(topk, K) * min(N, max_detections)``; class-major order (module
        doc). Ties keep their input order.
    """
    segments = np.asarray(segments, dtype=np.float64).reshape(-1, 2)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    video_scores = np.asarray(video_scores, dtype=np.float64).reshape(-1)
    if segments.shape[0] != scores.shape[0]:
        raise ValueError(f'fuse_video_scores: {segments.shape[0]} segments '
                         f'but {scores.shape[0]} scores')
    if topk < 1 or max_detections < 1:
        raise ValueError('fuse_video_scores: topk and max_detections must '
                         f'be >= 1, got {topk}, {max_detections}')
    keep = np.argsort(-scores, kind='stable')[:max_detections]
    classes = np.argsort(-video_scores, kind='stable')[:topk]
    fused = np.sqrt(video_scores[classes, None] * scores[None, keep])
    return (np.tile(segments[keep], (len(classes), 1)), fused.reshape(-1),
            np.repeat(classes, len(keep)).astype(np.int64))


def fuse_predictions(predictions: Dict[str, dict],
                     video_scores: Dict[str, np.ndarray], topk: int = 2,
                     max_detections: int = 200,
                     source: str = 'the score file') -> Dict[str, dict]:
    """:func:`fuse_video_scores` for every video of a prediction dict.

    Args:
        predictions (dict): ``video -> dict(segments, scores, labels)``
            (what ``load_predictions`` returns; labels are ignored).
        video_scores (dict): :func:`read_video_scores`'s result.
        source (str): The score file, for the error message.

    Returns:
        dict: ``video -> dict(segments, scores, labels)``, fused.
    """
    missing: List[str] = [v for v in predictions if v not in video_scores]
    if missing:
        raise TADDataError(
            f'{len(missing)} predicted videos have no class scores in '
            f'{source}, e.g. {missing[:3]} (its videos look like '
            f'{list(video_scores)[:3]})')
    fused = {}
    for video, pred in predictions.items():
        segments, scores, labels = fuse_video_scores(
            pred['segments'], pred['scores'], video_scores[video], topk,
            max_detections)
        fused[video] = dict(segments=segments, scores=scores, labels=labels)
    return fused
