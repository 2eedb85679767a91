"""Train and evaluate ASL on the embedded demo data, on CPU, in minutes.

    python tools/demo.py [--config configs/asl/asl_demo.py]
                         [--work-dir work_dirs/asl_demo] [--data-root data/demo]

Generates the demo clips on first use, trains through MMEngine's Runner,
tests the final (EMA) weights, and prints the mAP per tIoU next to the mAP of
random segments on the same clips. Outputs: ``<work-dir>/`` holds the
checkpoints, the logs and ``predictions.json``.
"""
import argparse
import os.path as osp
import sys

from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from asl_mmaction.datasets.demo_data import generate_demo_data  # noqa: E402
from asl_mmaction.evaluation.random_baseline import (  # noqa: E402
    dataset_ground_truth, random_baseline_metrics)
from asl_mmaction.utils.checkpoint import last_checkpoint_cfg  # noqa: E402
from asl_mmaction.utils.work_dir import check_work_dir  # noqa: E402
from asl_mmaction.utils.cli import add_debug_arg, run_main  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config',
                        default=osp.join(REPO, 'configs/asl/asl_demo.py'))
    parser.add_argument('--work-dir', default='work_dirs/asl_demo')
    parser.add_argument('--data-root', default='data/demo')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    add_debug_arg(parser)
    return parser.parse_args()


def build_cfg(args) -> Config:
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg.work_dir = args.work_dir
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = args.data_root
    cfg.test_evaluator = dict(
        cfg.test_evaluator,
        outfile_prefix=osp.join(args.work_dir, 'predictions'))
    return cfg


def format_table(model: dict, chance: dict) -> str:
    keys = [k for k in model if k.startswith('mAP@')] + ['mAP']
    lines = [f'{"metric":<12}{"ASL":>10}{"random":>10}']
    for key in keys:
        lines.append(f'{key:<12}{model[key]:>10.4f}{chance[key]:>10.4f}')
    return '\n'.join(lines)


def main():
    args = parse_args()
    generate_demo_data(args.data_root)
    check_work_dir(args.work_dir)
    cfg = build_cfg(args)
    Runner.from_cfg(cfg).train()
    # A fresh runner tests the saved (EMA) weights, as tools/test.py would;
    # testing in the training runner would rebuild the EMA from the raw ones.
    runner = Runner.from_cfg(last_checkpoint_cfg(cfg))
    metrics = runner.test()
    model_map = {k.split('/')[-1]: v for k, v in metrics.items()}

    init_default_scope('mmaction')
    dataset = runner.test_dataloader.dataset
    metric = runner.test_evaluator.metrics[0]
    chance = random_baseline_metrics(metric, dataset_ground_truth(dataset),
                                     len(dataset.metainfo['classes']))
    print('\n' + format_table(model_map, chance))
    ratio = model_map['mAP'] / max(chance['mAP'], 1e-8)
    print(f'\naverage mAP {model_map["mAP"]:.4f} = {ratio:.1f}x random '
          f'({chance["mAP"]:.4f})')
    print(f'work dir: {osp.abspath(args.work_dir)} (checkpoints, logs, '
          'predictions.json)')


if __name__ == '__main__':
    sys.exit(run_main(main))
