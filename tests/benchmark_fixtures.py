"""Small annotation files in the original formats of ActivityNet-1.3,
MultiTHUMOS and Charades (the real ones are not in ../shared/data), and
generated features for them."""
import csv
import json
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np

from dataset_fixtures import write_features, write_h5

MULTITHUMOS_CLASSES = tuple(f'MTClass{i:02d}' for i in range(65))
CHARADES_CLASSES = tuple(f'charades action {i}' for i in range(157))
ANET_CLASSES = ('Archery', 'Dancing', 'Surfing')


def activitynet_file(folder: Path, n_per_subset: int = 3,
                     seed: int = 0) -> Tuple[Path, Dict[str, dict]]:
    """``activity_net.v1-3.min.json``: version, taxonomy, database with
    training / validation videos (label names, no ids) and unlabelled
    testing ones."""
    rng = np.random.default_rng(seed)
    database = {}
    for subset in ('training', 'validation', 'testing'):
        for i in range(n_per_subset):
            duration = float(rng.uniform(60, 120))
            anns = []
            if subset != 'testing':
                for k in range(2):
                    start = float(rng.uniform(0, duration - 30))
                    anns.append(dict(
                        segment=[round(start, 2),
                                 round(start + rng.uniform(5, 25), 2)],
                        label=ANET_CLASSES[(i + k) % 3]))
            database[f'{subset[:2]}{i}xYz'] = dict(
                subset=subset, duration=round(duration, 2),
                resolution='1280x720', url='https://youtube.com/x',
                annotations=anns)
    path = folder / 'activity_net.v1-3.min.json'
    path.write_text(json.dumps(dict(version='VERSION 1.3', taxonomy=[],
                                    database=database)))
    return path, database


def multithumos_files(folder: Path, seed: int = 0):
    """``annotations/<Class>.txt`` (both splits) and ``class_list.txt`` (65
    classes, ids from 1), plus a ``video_id,duration,fps`` CSV; returns
    (annotations folder, class list, info CSV, ``{video: duration}``)."""
    rng = np.random.default_rng(seed)
    videos = {f'video_validation_{i:07d}': float(rng.uniform(40, 80))
              for i in range(1, 4)}
    videos.update({f'video_test_{i:07d}': float(rng.uniform(40, 80))
                   for i in range(1, 3)})
    ann_dir = folder / 'annotations'
    ann_dir.mkdir(parents=True)
    lines: Dict[str, List[str]] = {}
    for n, (video, duration) in enumerate(videos.items()):
        for k in range(4):  # dense: overlapping actions of several classes
            start = rng.uniform(0, duration - 12)
            label = MULTITHUMOS_CLASSES[(7 * n + 3 * k) % 65]
            lines.setdefault(label, []).append(
                f'{video} {start:.1f} {start + rng.uniform(2, 10):.1f}')
    for label, rows in lines.items():
        (ann_dir / f'{label}.txt').write_text('\n'.join(rows) + '\n')
    class_list = folder / 'class_list.txt'
    class_list.write_text(''.join(f'{i + 1} {name}\n'
                                  for i, name in enumerate(
                                      MULTITHUMOS_CLASSES)))
    info = folder / 'video_info.csv'
    with open(info, 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['video_id', 'duration', 'fps'])
        for video, duration in videos.items():
            writer.writerow([video, round(duration, 2), 30.0])
    return ann_dir, class_list, info, {v: round(d, 2)
                                       for v, d in videos.items()}


CHARADES_HEADER = ['id', 'subject', 'scene', 'quality', 'relevance',
                   'verified', 'script', 'objects', 'descriptions',
                   'actions', 'length']


def charades_files(folder: Path, seed: int = 0):
    """``Charades_v1_{train,test}.csv`` and ``Charades_v1_classes.txt``;
    returns (train CSV, test CSV, classes file, ``{video: length}``)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    lengths = {}
    paths = []
    for split, count in (('train', 4), ('test', 2)):
        path = folder / f'Charades_v1_{split}.csv'
        with open(path, 'w', newline='') as f:
            writer = csv.writer(f)
            writer.writerow(CHARADES_HEADER)
            for i in range(count):
                vid = f'{split[:2].upper()}{i:03d}'
                length = round(float(rng.uniform(20, 40)), 2)
                lengths[vid] = length
                actions = []
                for k in range(3):
                    start = rng.uniform(0, length - 8)
                    actions.append(f'c{(5 * i + 40 * k) % 157:03d} '
                                   f'{start:.2f} '
                                   f'{start + rng.uniform(2, 8):.2f}')
                writer.writerow([vid, 'S1', 'Kitchen', 6, 7, 'Yes',
                                 'A person cooks.', 'pan;food',
                                 'A person cooks; then eats.',
                                 ';'.join(actions), length])
        paths.append(path)
    classes = folder / 'Charades_v1_classes.txt'
    classes.write_text(''.join(f'c{i:03d} {name}\n'
                               for i, name in enumerate(CHARADES_CLASSES)))
    return paths[0], paths[1], classes, lengths


def i3d_like_features(folder: Path, durations: Dict[str, float],
                      fps: float, stride: float, window: float,
                      channels: int, prefix: str = '', seed: int = 0):
    """``.npy`` features with the length an extractor gives."""
    lengths = {f'{prefix}{v}': max(int((d * fps - window) // stride) + 1, 1)
               for v, d in durations.items()}
    return write_features(folder, lengths, channels=channels, seed=seed)


def per_second_h5(path: Path, durations: Dict[str, float], rate: float,
                  channels: int, seed: int = 0) -> Dict[str, np.ndarray]:
    """One HDF5 file of ``[round(rate * d), C]`` features keyed by video."""
    rng = np.random.default_rng(seed)
    arrays = {v: rng.normal(size=(max(int(round(rate * d)), 1),
                                  channels)).astype(np.float32)
              for v, d in durations.items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    write_h5(path, arrays)
    return arrays
