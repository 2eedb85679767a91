"""Validate a dataset before training: every video, every feature file.

    python tools/check_dataset.py CONFIG [--split train|val|test]
                                  [--work-dir DIR] [--cfg-options ...]

Builds ``{split}_dataloader.dataset`` from the config with bad videos
collected instead of raised, checks labels against the model's
``model.head.num_classes`` and the class list, reads every feature file
(NaN / inf, absurd magnitudes, integer dtypes; the results are cached in the
work dir, ``feature_checks.json``, so a re-run and the check that
``tools/train.py`` runs before training only read new or changed files),
prints statistics (videos, actions per class, durations, feature lengths)
and exits with status 1 if any video is bad.
"""
import argparse
import os.path as osp
import sys
from collections import Counter

import numpy as np
from mmengine.config import DictAction
from mmengine.registry import init_default_scope

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from asl_mmaction.datasets.feature_checks import (  # noqa: E402
    check_dataset_feature_values)
from asl_mmaction.datasets.preflight import (  # noqa: E402
    build_split_dataset, class_list_problem, feature_cache_file,
    label_problems, model_num_classes)
from asl_mmaction.utils.cli import add_debug_arg, run_main  # noqa: E402
from asl_mmaction.utils.tool_args import load_config  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--split', default='train',
                        choices=['train', 'val', 'test'])
    parser.add_argument('--work-dir', help='where the feature-check cache '
                        'lives (default: the config\'s work dir, as '
                        'tools/train.py resolves it)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    add_debug_arg(parser)
    args = parser.parse_args(argv)
    args.launcher = 'none'
    return args


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
    cfg = load_config(args)
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    dataset = build_split_dataset(cfg, args.split, collect_bad=True)
    bad = list(dataset.bad_videos)
    num_classes = model_num_classes(cfg)
    class_problem = None
    if num_classes is not None:
        bad += label_problems(dataset, num_classes)
        class_problem = class_list_problem(dataset, num_classes)
    values = check_dataset_feature_values(dataset, feature_cache_file(cfg),
                                          progress=True)
    bad += values['bad']
    bad_names = {name for name, _ in bad}
    good = [dataset.get_data_info(i) for i in range(len(dataset))]
    good = [d for d in good if d['video_name'] not in bad_names]
    lengths = [values['steps'][d['video_name']] for d in good]
    print(summarize(good, lengths, dataset.metainfo['classes']))
    print(f"\nfeature values: {values['read']} file(s) read, "
          f"{values['cached']} unchanged since the last check "
          f"({feature_cache_file(cfg)}), {values['seconds']:.1f} s")
    if class_problem:
        print(f'\nERROR: {class_problem}')
    if bad:
        print(f'\n{len(bad)} bad video(s):')
        for name, reason in bad:
            print(f'  {name}: {reason}')
    if bad or class_problem:
        return 1
    print('\nall videos OK')
    return 0


if __name__ == '__main__':
    sys.exit(run_main(main))
