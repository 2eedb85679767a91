"""Train a detector: ``python tools/train.py CONFIG [--work-dir DIR] ...``.

Works on CPU-only machines without editing the config (gloo + CPU DDP when
launched by ``tools/dist_train.sh``). Before the Runner starts, the work dir
is checked and the training data are checked against the model (labels vs
``num_classes``, every feature file's values, cached in the work dir; see
``asl_mmaction/datasets/preflight.py``): bad input stops here, with the file
and video, not at iteration 10.
"""
import argparse
import os
import os.path as osp
import sys

import torch
from mmengine.config import Config

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from asl_mmaction.datasets.preflight import preflight_check  # noqa: E402
from asl_mmaction.utils import trusted_checkpoints  # noqa: E402
from asl_mmaction.utils.cli import (ToolError, add_debug_arg,  # noqa: E402
                                    run_main)
from asl_mmaction.utils.dist_utils import run_runner  # noqa: E402
from asl_mmaction.utils.tool_args import (  # noqa: E402
    add_common_args, load_config, parse_common)
from asl_mmaction.utils.work_dir import check_work_dir  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description='Train a TAD detector')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='where to save logs and models')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from this checkpoint, or, with no value, from the '
        'latest checkpoint in the work dir')
    parser.add_argument('--amp', action='store_true',
                        help='automatic mixed precision (CUDA)')
    parser.add_argument('--no-validate', action='store_true',
                        help='do not evaluate during training')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the learning rate with the batch size')
    parser.add_argument('--seed', type=int, default=None, help='random seed')
    parser.add_argument('--deterministic', action='store_true',
                        help='deterministic algorithms (cudnn, seeds)')
    parser.add_argument(
        '--skip-data-check', action='store_true',
        help='do not check labels and feature values before training '
        '(tools/check_dataset.py runs the same checks)')
    add_common_args(parser)
    add_debug_arg(parser)
    return parse_common(parser)


def merge_args(cfg: Config, args) -> Config:
    """Fold command-line flags into the config."""
    if args.amp:
        if not torch.cuda.is_available():
            raise ToolError('--amp needs a CUDA device (mixed precision '
                            'is not supported on CPU here); drop --amp')
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    if args.auto_scale_lr:
        cfg.auto_scale_lr = dict(cfg.get('auto_scale_lr', {}), enable=True)
    randomness = cfg.setdefault('randomness', {})
    if args.seed is not None:
        randomness['seed'] = args.seed
    if args.deterministic:
        randomness['deterministic'] = True
    return cfg


def main():
    args = parse_args()
    cfg = merge_args(load_config(args), args)
    check_work_dir(cfg.work_dir)
    # One process checks the data (the others wait for it at the process
    # group's rendezvous; if it fails, the launcher stops them).
    if not args.skip_data_check and int(os.environ.get('RANK', 0)) == 0:
        preflight_check(cfg)
    # Checkpoints this project writes load with MMEngine's own loader; an
    # older one that the user named (or found in the work dir the user
    # named) may be loaded in full, for this run only.
    with trusted_checkpoints([cfg.work_dir, cfg.get('load_from')]):
        run_runner(cfg, args.launcher, 'train')


if __name__ == '__main__':
    sys.exit(run_main(main))
