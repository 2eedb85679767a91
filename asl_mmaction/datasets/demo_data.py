"""The embedded demo dataset: small, deterministic, in the Ego4D-MQ layout.

Clips of 60-200 s with features at 1.875 per second (16-frame stride at
30 fps, as Ego4D's SlowFast features) and 32 channels. Each of the
``NUM_CLASSES`` classes has a random prototype; inside an action the
prototype is strongest in the middle of the segment (the recognisable core)
and two class-agnostic boundary prototypes mark its start and its end, so
that both the classification and the localization of an action depend on
where a frame sits inside it, which is what ASL's sensitivity models.
Actions overlap, and some last only a few feature steps.

The files are written atomically (temporary name, then ``os.replace``), so
several processes generating the same folder at once cannot leave a
half-written file.
"""
import json
import os
import os.path as osp
from typing import Dict, List

import numpy as np

NUM_CLASSES = 6
CLASS_NAMES = tuple(f'demo_action_{i}' for i in range(NUM_CLASSES))
FEAT_CHANNELS = 32
FPS, FEAT_STRIDE, NUM_FRAMES = 30.0, 16, 16
ANN_FILE = 'demo_clip_annotations.json'
FEAT_DIR = 'features'
# Bump when the generator changes, so stale folders are regenerated.
DEMO_VERSION = 1


def _atomic_write_bytes(path: str, write_fn) -> None:
    tmp = f'{path}.tmp{os.getpid()}'
    with open(tmp, 'wb') as f:
        write_fn(f)
    os.replace(tmp, path)


def _sample_actions(rng: np.random.Generator, duration: float) -> List[dict]:
    """3-8 actions with durations from 2 s to 40 s; overlaps allowed."""
    actions = []
    for _ in range(int(rng.integers(3, 9))):
        length = float(np.exp(rng.uniform(np.log(2.0), np.log(40.0))))
        length = min(length, 0.8 * duration)
        start = float(rng.uniform(0.0, duration - length))
        label = int(rng.integers(NUM_CLASSES))
        actions.append(
            dict(segment=[round(start, 3), round(start + length, 3)],
                 label=CLASS_NAMES[label], label_id=label))
    return sorted(actions, key=lambda a: a['segment'][0])


def _render_features(rng: np.random.Generator, num_steps: int,
                     actions: List[dict], prototypes: np.ndarray,
                     boundary: np.ndarray) -> np.ndarray:
    """Noise plus class and boundary signals, ``float32 [T, C]``."""
    feats = rng.normal(0.0, 1.0, (num_steps, FEAT_CHANNELS))
    centres = (np.arange(num_steps) * FEAT_STRIDE + NUM_FRAMES / 2) / FPS
    for act in actions:
        start, end = act['segment']
        rel = (centres - start) / (end - start)  # 0 at start, 1 at end
        inside = (rel >= 0) & (rel <= 1)
        core = np.exp(-0.5 * ((rel - 0.5) / 0.25)**2) * inside
        feats += 1.5 * core[:, None] * prototypes[act['label_id']]
        half_width = max(1.0 / FEAT_STRIDE * FPS, 0.1 * (end - start))
        for edge, proto in ((start, boundary[0]), (end, boundary[1])):
            bump = np.exp(-0.5 * ((centres - edge) / half_width)**2)
            feats += 1.0 * bump[:, None] * proto
    return feats.astype(np.float32)


def generate_demo_data(root: str, num_train: int = 48, num_val: int = 16,
                       seed: int = 0) -> Dict[str, str]:
    """Write the demo clips under ``root`` unless they are already there.

    Layout::

        root/demo_clip_annotations.json   # Ego4D-MQ converted clip layout
        root/demo_version.txt             # written last: folder complete
        root/features/<clip_uid>.npy      # float32 [T, 32]

    Returns:
        dict: ``ann_file`` and ``feat_dir`` paths.
    """
    ann_path = osp.join(root, ANN_FILE)
    feat_dir = osp.join(root, FEAT_DIR)
    paths = dict(ann_file=ann_path, feat_dir=feat_dir)
    # The version file is written last: it marks a complete folder.
    version_path = osp.join(root, 'demo_version.txt')
    if osp.exists(version_path):
        with open(version_path) as f:
            if f.read().strip() == str(DEMO_VERSION):
                return paths
    os.makedirs(feat_dir, exist_ok=True)
    rng = np.random.default_rng(seed)
    prototypes = rng.normal(0.0, 1.0, (NUM_CLASSES, FEAT_CHANNELS))
    boundary = rng.normal(0.0, 1.0, (2, FEAT_CHANNELS))
    database = {}
    for idx in range(num_train + num_val):
        clip_uid = f'demo_clip_{idx:03d}'
        duration = float(rng.uniform(60.0, 200.0))
        num_steps = int((duration * FPS - NUM_FRAMES) // FEAT_STRIDE) + 1
        actions = _sample_actions(rng, duration)
        feats = _render_features(rng, num_steps, actions, prototypes,
                                 boundary)
        _atomic_write_bytes(osp.join(feat_dir, f'{clip_uid}.npy'),
                            lambda f, a=feats: np.save(f, a))
        database[clip_uid] = dict(
            video_id=f'demo_video_{idx // 4:03d}', clip_id=idx % 4,
            duration=round(duration, 3), parent_start_sec=0.0,
            parent_end_sec=round(duration, 3), v_duration=round(duration, 3),
            fps=FPS, subset='train' if idx < num_train else 'val',
            annotations=actions)
    text = json.dumps(database, indent=1).encode()
    _atomic_write_bytes(ann_path, lambda f: f.write(text))
    _atomic_write_bytes(version_path,
                        lambda f: f.write(str(DEMO_VERSION).encode()))
    return paths
