"""Semi-real benchmark data: real EPIC-Kitchens-100 annotations, generated
features with a known, class-specific key position inside every action.

The annotations are the official EPIC-Kitchens-100 validation split
(``EPIC_100_validation.csv``: 138 videos, 13.2 h, 9,668 verb segments with
their real start / end times, counts, overlaps and class frequencies; video
durations from ``EPIC_100_video_info.csv``). Its videos are split into a
training and a validation part (fixed, seeded). Only the features are
generated, at the rate of the EPIC configs (30 fps, a feature every 16
frames, 32-frame windows, i.e. 1.875 per second; the step count of a video
is what ``EpicKitchensDataset`` expects from its duration).

Feature model (``float32 [T, C]`` per video)::

    x_t = noise_t                       iid N(0, 1) per channel
        + sum over actions a covering t of  e_a(r) * d_{class(a)}
        + b * (g(t - start_a) * u_start + g(t - end_a) * u_end)

* ``d_k``: unit direction of class ``k`` (random, seeded); ``u_start`` /
  ``u_end``: class-agnostic unit directions of the start / end cue.
* ``r = (t - start) / (end - start)`` in ``[0, 1]`` is the position inside
  the action, and ``e_a(r)`` the class evidence there:
  ``peaked`` (the benchmark): ``base + peak * exp(-(r - kp_k)^2 / (2 w^2))``,
  with the class's **key position** ``kp_k`` drawn uniformly in
  ``key_range`` (seeded, one per class); ``flat`` (the control): the same
  annotations, and the constant mean of that profile over ``[0, 1]``, so the
  total evidence of an action is the same but it has no key position.
* ``g``: Gaussian bump of standard deviation ``max(1 step, 10 % of the
  action)`` seconds around each boundary, peak ``b``.

Each feature step averages the signal over its 32-frame window (8 samples),
as clip features do; so actions shorter than a step still leave evidence.

Files, in the ActionFormer EPIC layout that ``EpicKitchensDataset`` (JSON
branch) and ActionFormer's own loader both read::

    <root>/<name>/annotations/semi_real_epic_verb.json  # {'database': ...}
    <root>/<name>/annotations/EPIC_100_verb_classes.csv # copied class list
    <root>/<name>/features/<video_id>.npz               # 'feats': [T, C]
    <root>/<name>/semi_real_meta.json                   # key positions, ...

``<name>`` encodes the variant and every generator setting, so changed
settings never reuse a stale folder. The folder is built under a temporary
name and renamed into place: a reader never sees a half-written one, and
concurrent generators of the same folder are harmless.

Run ``python bench/semi_real_data.py [--variant peaked|flat]`` to generate it
and print its statistics.
"""
import argparse
import hashlib
import json
import math
import os
import os.path as osp
import shutil
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional, Tuple

import numpy as np

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)
from asl_mmaction.datasets.annotation_files import load_class_names  # noqa
from asl_mmaction.datasets.epic_annotations import (  # noqa: E402
    parse_csv, read_video_info, records_to_actionformer_json)

SHARED_DATA = osp.join(osp.dirname(REPO), 'shared', 'data')
EPIC_DIR = 'epic_kitchens_100'
ANN_FILE = 'annotations/semi_real_epic_verb.json'
CLASS_FILE = 'annotations/EPIC_100_verb_classes.csv'
FEAT_DIR = 'features'
META_FILE = 'semi_real_meta.json'
VARIANTS = ('peaked', 'flat')
# Bump when the generator's output changes for the same settings.
GENERATOR_VERSION = 1


@dataclass(frozen=True)
class SemiRealSettings:
    """Every setting of the generated data (all of them name the folder).

    Attributes:
        variant (str): ``'peaked'`` (class key positions) or ``'flat'``.
        seed (int): Seed of classes, split and noise.
        feat_channels (int): Feature width ``C``.
        val_fraction (float): Share of the videos in the validation part.
        max_videos (int | None): Keep only this many videos (the shortest
            ones; for smoke tests). None keeps all 138.
        peak (float): Peak class evidence above ``base`` at the key position
            (in noise standard deviations, along ``d_k``).
        base (float): Class evidence everywhere inside an action.
        key_width (float): Standard deviation ``w`` of the evidence peak, in
            action lengths.
        key_range (tuple): Range of the key positions, in action lengths.
        boundary (float): Peak of the start / end cues.
        fps, feat_stride, num_frames: The feature grid (EPIC configs).
    """
    variant: str = 'peaked'
    seed: int = 0
    feat_channels: int = 64
    val_fraction: float = 0.25
    max_videos: Optional[int] = None
    peak: float = 3.0
    base: float = 0.5
    key_width: float = 0.1
    key_range: Tuple[float, float] = (0.1, 0.9)
    boundary: float = 1.5
    fps: float = 30.0
    feat_stride: int = 16
    num_frames: int = 32
    window_samples: int = 8
    version: int = field(default=GENERATOR_VERSION)

    def __post_init__(self):
        if self.variant not in VARIANTS:
            raise ValueError(f'variant must be one of {VARIANTS}, got '
                             f'{self.variant!r}')
        if not 0.0 < self.val_fraction < 1.0:
            raise ValueError(f'val_fraction must be in (0, 1), got '
                             f'{self.val_fraction}')
        lo, hi = self.key_range
        if not 0.0 <= lo <= hi <= 1.0:
            raise ValueError(f'key_range must lie in [0, 1], got '
                             f'{self.key_range}')
        if self.max_videos is not None and self.max_videos < 2:
            raise ValueError('max_videos must be >= 2 (one per part)')

    def folder_name(self) -> str:
        """``epic_verb_<variant>_c<C>_s<seed>[_n<N>]_<hash>``."""
        text = json.dumps(asdict(self), sort_keys=True)
        digest = hashlib.sha1(text.encode()).hexdigest()[:8]
        count = '' if self.max_videos is None else f'_n{self.max_videos}'
        return (f'epic_verb_{self.variant}_c{self.feat_channels}_'
                f's{self.seed}{count}_{digest}')


# ------------------------------------------------------------- signal model
def num_feature_steps(duration: float, s: SemiRealSettings) -> int:
    """Steps of a video as the dataset's length check expects them."""
    return max(int((duration * s.fps - s.num_frames) // s.feat_stride) + 1,
               1)


def window_times(num_steps: int, s: SemiRealSettings) -> np.ndarray:
    """``[T, S]`` sample times (s) inside each step's frame window."""
    start = np.arange(num_steps) * s.feat_stride
    offsets = (np.arange(s.window_samples) + 0.5) / s.window_samples
    return (start[:, None] + offsets[None] * s.num_frames) / s.fps


def peaked_profile(r: np.ndarray, key: float, s: SemiRealSettings
                   ) -> np.ndarray:
    """Class evidence at relative positions ``r`` (0 outside ``[0, 1]``)."""
    inside = (r >= 0.0) & (r <= 1.0)
    bump = np.exp(-0.5 * ((r - key) / s.key_width) ** 2)
    return (s.base + s.peak * bump) * inside


def profile_mean(key: float, s: SemiRealSettings) -> float:
    """Mean of :func:`peaked_profile` over ``[0, 1]`` (the flat level)."""
    w = s.key_width
    mass = w * math.sqrt(math.pi / 2) * (
        math.erf((1 - key) / (w * math.sqrt(2))) +
        math.erf(key / (w * math.sqrt(2))))
    return s.base + s.peak * mass


def render_features(rng: np.random.Generator, num_steps: int,
                    segments: List[List[float]], labels: List[int],
                    class_dirs: np.ndarray, key_pos: np.ndarray,
                    boundary_dirs: np.ndarray,
                    s: SemiRealSettings) -> np.ndarray:
    """Noise + class evidence + boundary cues of one video, ``[T, C]``."""
    times = window_times(num_steps, s)  # [T, S]
    feats = rng.normal(0.0, 1.0, (num_steps, s.feat_channels))
    step_s = s.feat_stride / s.fps
    for (start, end), label in zip(segments, labels):
        length = max(end - start, 1e-3)
        # only steps whose window can touch the action or its cues
        reach = 4 * max(step_s, 0.1 * length) + s.num_frames / s.fps
        lo = max(int((start - reach) * s.fps / s.feat_stride), 0)
        hi = min(int((end + reach) * s.fps / s.feat_stride) + 1, num_steps)
        if hi <= lo:
            continue
        t = times[lo:hi]
        r = (t - start) / length
        if s.variant == 'peaked':
            evidence = peaked_profile(r, key_pos[label], s)
        else:
            evidence = profile_mean(key_pos[label], s) * (
                (r >= 0.0) & (r <= 1.0))
        feats[lo:hi] += evidence.mean(axis=1)[:, None] * class_dirs[label]
        width = max(step_s, 0.1 * length)
        for edge, direction in ((start, boundary_dirs[0]),
                                (end, boundary_dirs[1])):
            cue = np.exp(-0.5 * ((t - edge) / width) ** 2).mean(axis=1)
            feats[lo:hi] += s.boundary * cue[:, None] * direction
    return feats.astype(np.float32)


def _unit_rows(rng: np.random.Generator, n: int, c: int) -> np.ndarray:
    v = rng.normal(0.0, 1.0, (n, c))
    return v / np.linalg.norm(v, axis=1, keepdims=True)


# ------------------------------------------------------------------ writing
def split_videos(names: List[str], s: SemiRealSettings) -> Dict[str, str]:
    """``video -> 'train' | 'val'``, a seeded permutation of sorted names."""
    order = sorted(names)
    perm = np.random.default_rng([s.seed, 1]).permutation(len(order))
    num_val = max(1, int(round(s.val_fraction * len(order))))
    val = {order[i] for i in perm[:num_val]}
    return {n: ('val' if n in val else 'train') for n in order}


def load_epic_records(shared_data: str, s: SemiRealSettings
                      ) -> Tuple[List[dict], List[str]]:
    """EPIC validation records (verb task) and the verb class names."""
    epic = osp.join(shared_data, EPIC_DIR)
    paths = [osp.join(epic, f) for f in (
        'EPIC_100_validation.csv', 'EPIC_100_video_info.csv',
        'EPIC_100_verb_classes.csv')]
    missing = [p for p in paths if not osp.isfile(p)]
    if missing:
        raise FileNotFoundError(
            f'semi-real data needs the real EPIC-Kitchens-100 annotation '
            f'files; missing {missing} (they live in ../shared/data beside '
            'the repository, see its README)')
    records = parse_csv(paths[0], 'verb', read_video_info(paths[1]),
                        subset='val')
    classes = load_class_names(paths[2])
    if s.max_videos is not None:
        records = sorted(records, key=lambda r: r['duration'])[
            :s.max_videos]
    return records, classes


def generate_semi_real_data(root: str, settings: Optional[SemiRealSettings]
                            = None, shared_data: str = SHARED_DATA,
                            **kwargs) -> Dict[str, object]:
    """Generate the data under ``root`` once; return its description.

    Args:
        root (str): Cache folder (e.g. ``data/semi_real``, git-ignored).
        settings (SemiRealSettings, optional): Defaults plus ``kwargs``.
        shared_data (str): Folder with ``epic_kitchens_100/``.

    Returns:
        dict: ``data_root`` (the generated folder), ``ann_file``,
        ``class_file``, ``feat_dir`` (paths) and the ``meta`` dict of
        ``semi_real_meta.json`` (settings, ``key_positions`` [K] in
        ``[0, 1]``, ``train_counts`` / ``val_counts`` [K] segments per
        class, ``split``).
    """
    if settings is not None and kwargs:
        raise ValueError('pass settings or keyword settings, not both')
    s = settings or SemiRealSettings(**kwargs)
    data_root = osp.join(root, s.folder_name())
    if not osp.isfile(osp.join(data_root, META_FILE)):
        _build(data_root, s, shared_data)
    with open(osp.join(data_root, META_FILE)) as f:
        meta = json.load(f)
    return dict(data_root=data_root, ann_file=osp.join(data_root, ANN_FILE),
                class_file=osp.join(data_root, CLASS_FILE),
                feat_dir=osp.join(data_root, FEAT_DIR), meta=meta)


def _build(data_root: str, s: SemiRealSettings, shared_data: str) -> None:
    records, classes = load_epic_records(shared_data, s)
    num_classes = len(classes)
    # Class-level draws come from the seed alone (not the variant), so the
    # peaked set and its flat control share directions and key positions.
    class_rng = np.random.default_rng([s.seed, 0])
    key_lo, key_hi = s.key_range
    key_pos = class_rng.uniform(key_lo, key_hi, num_classes)
    class_dirs = _unit_rows(class_rng, num_classes, s.feat_channels)
    boundary_dirs = _unit_rows(class_rng, 2, s.feat_channels)
    split = split_videos([r['video_name'] for r in records], s)

    os.makedirs(osp.dirname(data_root) or '.', exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=osp.basename(data_root) + '.tmp',
                           dir=osp.dirname(data_root) or '.')
    try:
        os.makedirs(osp.join(tmp, FEAT_DIR))
        os.makedirs(osp.join(tmp, 'annotations'))
        counts = {'train': np.zeros(num_classes, int),
                  'val': np.zeros(num_classes, int)}
        out_records = []
        for index, rec in enumerate(sorted(records,
                                           key=lambda r: r['video_name'])):
            name = rec['video_name']
            # one noise stream per video: independent of the video subset
            rng = np.random.default_rng([s.seed, 2, index])
            steps = num_feature_steps(rec['duration'], s)
            feats = render_features(rng, steps, rec['segments'],
                                    rec['label_ids'], class_dirs, key_pos,
                                    boundary_dirs, s)
            np.savez(osp.join(tmp, FEAT_DIR, f'{name}.npz'), feats=feats)
            subset = split[name]
            np.add.at(counts[subset], rec['label_ids'], 1)
            out_records.append(dict(rec, subset=subset, fps=s.fps))
        ann = records_to_actionformer_json(out_records, classes)
        ann['version'] = 'EPIC-Kitchens-100 semi-real'
        with open(osp.join(tmp, ANN_FILE), 'w') as f:
            json.dump(ann, f)
        shutil.copyfile(osp.join(shared_data, EPIC_DIR,
                                 'EPIC_100_verb_classes.csv'),
                        osp.join(tmp, CLASS_FILE))
        meta = dict(settings=asdict(s), classes=list(classes),
                    key_positions=key_pos.tolist(),
                    train_counts=counts['train'].tolist(),
                    val_counts=counts['val'].tolist(),
                    split={'train': sorted(n for n, v in split.items()
                                           if v == 'train'),
                           'val': sorted(n for n, v in split.items()
                                         if v == 'val')})
        # written last inside the temporary folder
        with open(osp.join(tmp, META_FILE), 'w') as f:
            json.dump(meta, f, indent=1)
        try:
            os.rename(tmp, data_root)
        except OSError:
            # another process finished the same folder first
            if not osp.isfile(osp.join(data_root, META_FILE)):
                raise
    finally:
        if osp.isdir(tmp):
            shutil.rmtree(tmp, ignore_errors=True)


def describe(info: dict) -> str:
    """Sizes and class statistics of generated data, for the log."""
    meta = info['meta']
    s = meta['settings']
    train = np.asarray(meta['train_counts'])
    val = np.asarray(meta['val_counts'])
    return (f"semi-real EPIC verbs ({s['variant']}): "
            f"{len(meta['split']['train'])} train / "
            f"{len(meta['split']['val'])} val videos, "
            f"{train.sum()} / {val.sum()} segments, "
            f"{(train > 0).sum()} classes in train, "
            f"{(train >= 20).sum()} with >= 20 train segments; "
            f"C={s['feat_channels']}, peak {s['peak']} + base {s['base']} "
            f"(width {s['key_width']}), boundary {s['boundary']}, "
            f"seed {s['seed']}; {info['data_root']}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--root', default=osp.join(REPO, 'data/semi_real'))
    parser.add_argument('--variant', default='peaked', choices=VARIANTS)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--max-videos', type=int, default=None)
    parser.add_argument('--shared-data', default=SHARED_DATA)
    args = parser.parse_args(argv)
    info = generate_semi_real_data(
        args.root, shared_data=args.shared_data, variant=args.variant,
        seed=args.seed, max_videos=args.max_videos)
    print(describe(info))


if __name__ == '__main__':
    main()
