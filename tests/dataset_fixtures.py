"""Shared helpers of the dataset tests: the real annotation files and small
generated features for them (few channels, so everything stays fast)."""
import json
from pathlib import Path
from typing import Dict, Iterable, Optional

import numpy as np
import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / 'shared' / 'data'
EGO4D_CLIPS = SHARED_DATA / 'ego4d_mq' / 'ego4d_clip_annotations.json'
EPIC_DIR = SHARED_DATA / 'epic_kitchens_100'

FPS, STRIDE, WINDOW = 30.0, 16, 32


def shared_file(path: Path) -> Path:
    """``path`` inside ``../shared/data``; skip the test when it is absent."""
    if not path.exists():
        pytest.skip(f'real annotation file {path} not found (the shared '
                    'data folder lives at ../shared/data beside the repo)')
    return path


def num_steps(duration: float, fps: float = FPS, stride: float = STRIDE,
              window: float = WINDOW) -> int:
    """Feature steps of a video: windows of ``window`` frames every
    ``stride`` frames, as the public extractors produce."""
    return max(int((duration * fps - window) // stride) + 1, 1)


def write_features(folder: Path, lengths: Dict[str, int], channels: int = 8,
                   suffix: str = '.npy', layout: str = 'TC', seed: int = 0,
                   npz_key: str = 'feats') -> Dict[str, np.ndarray]:
    """Random ``float32 [T, C]`` features per video; returns the arrays."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    arrays = {}
    for name, length in lengths.items():
        feats = rng.normal(size=(length, channels)).astype(np.float32)
        arrays[name] = feats
        stored = feats if layout == 'TC' else feats.T.copy()
        path = folder / f'{name}{suffix}'
        if suffix == '.npy':
            np.save(path, stored)
        elif suffix == '.npz':
            np.savez(path, **{npz_key: stored})
        elif suffix == '.pt':
            import torch
            torch.save(torch.from_numpy(stored), path)
        else:
            raise ValueError(suffix)
    return arrays


def write_h5(path: Path, arrays: Dict[str, np.ndarray]) -> None:
    import h5py
    with h5py.File(path, 'w') as f:
        for name, feats in arrays.items():
            f.create_dataset(name, data=feats)


def small_ego4d_file(tmp: Path, per_subset: int = 2,
                     subsets: Iterable[str] = ('train', 'val', 'test'),
                     edit: Optional[callable] = None) -> Path:
    """A few real clips of each subset in the converted layout."""
    data = json.loads(shared_file(EGO4D_CLIPS).read_text())
    chosen, count = {}, {s: 0 for s in subsets}
    for uid, clip in data.items():
        if clip['subset'] in count and count[clip['subset']] < per_subset:
            chosen[uid] = clip
            count[clip['subset']] += 1
    if edit is not None:
        edit(chosen)
    path = tmp / 'clips.json'
    path.write_text(json.dumps(chosen))
    return path


def features_for_clips(ann_file: Path, folder: Path, **kwargs):
    """Generated features for every clip of a converted-layout file."""
    data = json.loads(ann_file.read_text())
    lengths = {uid: num_steps(c['duration']) for uid, c in data.items()}
    return write_features(folder, lengths, **kwargs)


def ego4d_cfg(ann_file, feat_dir, **kwargs) -> dict:
    cfg = dict(type='Ego4DMQDataset', ann_file=str(ann_file),
               feat_dirs=str(feat_dir), fps=FPS, feat_stride=STRIDE,
               num_frames=WINDOW, pipeline=[])
    cfg.update(kwargs)
    return cfg
