"""Validate a dataset before training: every video, every feature file.

    python tools/check_dataset.py CONFIG [--split train|val|test]
                                  [--cfg-options KEY=VALUE ...]

Builds ``{split}_dataloader.dataset`` from the config with bad videos
collected instead of raised, then loads each video's features (NaN / inf,
channels, lengths), prints statistics (videos, actions per class,
durations, feature lengths) and exits with status 1 if any video is bad.
"""
import argparse
import os.path as osp
import sys
from collections import Counter

import numpy as np
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from tqdm import tqdm

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
import asl_mmaction  # noqa: E402,F401
from asl_mmaction.datasets import TADDataError  # noqa: E402
from asl_mmaction.datasets.transforms import LoadTADFeatures  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--split', default='train',
                        choices=['train', 'val', 'test'])
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def build_dataset(cfg: Config, split: str):
    """The split's dataset, with bad videos collected, not raised."""
    from mmaction.registry import DATASETS
    dataset_cfg = cfg[f'{split}_dataloader']['dataset'].copy()
    dataset_cfg.update(skip_bad_videos=True, pipeline=[])
    return DATASETS.build(dataset_cfg)


def summarize(infos, lengths, classes) -> str:
    """Human-readable statistics of the checked videos."""
    durations = np.array([d['duration'] for d in infos] or [0.0])
    per_class = Counter(int(label) for d in infos for label in d['ann_labels'])
    n_actions = sum(per_class.values())
    n_train = sum(len(d['segments']) for d in infos)
    lines = [
        f'videos: {len(infos)}',
        f'actions: {n_actions} as scored ({n_train} after de-duplication), '
        f'{len(per_class)} of {len(classes)} classes present',
        f'duration (s): min {durations.min():.1f}, mean '
        f'{durations.mean():.1f}, max {durations.max():.1f}']
    if lengths:
        arr = np.array(lengths)
        lines.append(f'feature length (steps): min {arr.min()}, mean '
                     f'{arr.mean():.1f}, max {arr.max()}')
    lines.append('actions per class:')
    width = max((len(c) for c in classes), default=0)
    for idx, name in enumerate(classes):
        lines.append(f'  {idx:4d} {name:<{width}} {per_class.get(idx, 0)}')
    return '\n'.join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    try:
        dataset = build_dataset(cfg, args.split)
    except TADDataError as exc:
        print(f'ERROR: {exc}')
        return 1
    bad = list(dataset.bad_videos)
    loader = LoadTADFeatures(check_finite=True)
    good_infos, lengths = [], []
    for idx in tqdm(range(len(dataset)), desc='checking videos'):
        info = dataset.get_data_info(idx)
        try:
            lengths.append(loader(info)['feat_len'])
            good_infos.append(info)
        except TADDataError as exc:
            bad.append((info['video_name'], str(exc)))
    print(summarize(good_infos, lengths, dataset.metainfo['classes']))
    if bad:
        print(f'\n{len(bad)} bad video(s):')
        for name, reason in bad:
            print(f'  {name}: {reason}')
        return 1
    print('\nall videos OK')
    return 0


if __name__ == '__main__':
    sys.exit(main())
