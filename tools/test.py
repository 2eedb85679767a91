"""Evaluate a checkpoint: ``python tools/test.py CONFIG CHECKPOINT [...]``.

``--out FILE`` also writes the predictions (``--out-format ego4d_mq`` for the
Ego4D-MQ submission layout, ``actionformer`` for ActionFormer-style JSON);
``--format-only`` writes them without scoring (unlabelled test splits);
``--show-dir DIR`` draws a ground truth vs prediction timeline per video.
"""
import argparse
import os.path as osp
import sys

from mmengine.config import Config

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from asl_mmaction.utils import trusted_checkpoints  # noqa: E402
from asl_mmaction.utils.cli import (ToolError, add_debug_arg,  # noqa: E402
                                    run_main)
from asl_mmaction.utils.dist_utils import run_runner  # noqa: E402
from asl_mmaction.utils.tool_args import (  # noqa: E402
    add_common_args, load_config, parse_common)


def parse_args():
    parser = argparse.ArgumentParser(description='Test a TAD detector')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where to save logs')
    parser.add_argument('--out', help='write predictions to this file')
    parser.add_argument('--out-format', default='actionformer',
                        choices=['actionformer', 'ego4d_mq'])
    parser.add_argument('--format-only', action='store_true',
                        help='write predictions without evaluating')
    parser.add_argument('--protocol', choices=['official', 'actionformer'],
                        help='override the metric protocol of the config')
    parser.add_argument('--show-dir',
                        help='draw a timeline per video into this folder')
    add_common_args(parser)
    add_debug_arg(parser)
    return parse_common(parser)


def merge_args(cfg: Config, args) -> Config:
    if '://' not in args.checkpoint and not osp.isfile(args.checkpoint):
        raise ToolError(f'checkpoint {args.checkpoint} does not exist')
    cfg.load_from = args.checkpoint
    evaluator = dict(cfg.test_evaluator)
    if args.out:
        out = args.out[:-5] if args.out.endswith('.json') else args.out
        evaluator.update(outfile_prefix=out,
                         submission_format=args.out_format)
    if args.format_only:
        if not args.out:
            raise ToolError('--format-only needs --out FILE')
        evaluator['format_only'] = True
    if args.protocol:
        evaluator['protocol'] = args.protocol
    cfg.test_evaluator = evaluator
    if args.show_dir:
        cfg.custom_hooks = list(cfg.get('custom_hooks', [])) + [
            dict(type='TimelineVisualizationHook', out_dir=args.show_dir)]
    return cfg


def main():
    args = parse_args()
    cfg = merge_args(load_config(args), args)
    # An older checkpoint that the user named may be loaded in full.
    with trusted_checkpoints([args.checkpoint]):
        run_runner(cfg, args.launcher, 'test')


if __name__ == '__main__':
    sys.exit(run_main(main))
