"""Plot curves and timing from MMEngine's JSON scalar logs.

    python tools/analyze_logs.py plot_curve LOG.json [LOG2.json ...] \\
        --keys loss loss_cls mAP --out curves.png [--legend a b]
    python tools/analyze_logs.py cal_train_time LOG.json [...]

A log is ``work_dir/<timestamp>/vis_data/<timestamp>.json`` (or
``scalars.json`` next to it). ``--keys`` takes scalar names as logged;
``mAP`` also finds ``mmaction/mAP``. Without ``--keys`` the available keys
are listed.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from asl_mmaction.visualization.training_curves import (  # noqa: E402
    available_keys, load_json_log, plot_curves, train_time_stats)
from asl_mmaction.utils.cli import add_debug_arg, run_main  # noqa: E402


def plot_curve(args) -> None:
    logs = [load_json_log(path) for path in args.json_logs]
    if not args.keys:
        for path, log in zip(args.json_logs, logs):
            print(f'{path}: {" ".join(available_keys(log))}')
        return
    legend = args.legend or list(args.json_logs)
    plot_curves(logs, args.keys, args.out, legend=legend, title=args.title)
    print(f'wrote {args.out}')


def cal_train_time(args) -> None:
    for path in args.json_logs:
        stats = train_time_stats(load_json_log(path))
        print(f'{"-" * 5}Analyze train time of {path}{"-" * 5}')
        if stats['num_epochs'] > 1:
            print(f'slowest epoch {stats["slowest_epoch"]}, average time is '
                  f'{stats["slowest"]:.4f} s/iter')
            print(f'fastest epoch {stats["fastest_epoch"]}, average time is '
                  f'{stats["fastest"]:.4f} s/iter')
            print(f'time std over epochs is {stats["std"]:.4f}')
        print(f'average iter time: {stats["mean"]:.4f} s/iter')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Analyze MMEngine JSON logs')
    sub = parser.add_subparsers(dest='task', required=True)
    p = sub.add_parser('plot_curve', help='one panel per key')
    p.add_argument('json_logs', nargs='+')
    p.add_argument('--keys', nargs='+',
                   help='scalars to plot (omit to list them)')
    p.add_argument('--legend', nargs='+', help='one label per log')
    p.add_argument('--title')
    p.add_argument('--out', default='curves.png', help='PNG to write')
    p.set_defaults(func=plot_curve)
    p = sub.add_parser('cal_train_time', help='seconds per iteration')
    p.add_argument('json_logs', nargs='+')
    p.set_defaults(func=cal_train_time)
    add_debug_arg(parser)
    args = parser.parse_args(argv)
    for path in args.json_logs:
        if not osp.isfile(path):
            parser.error(f'log file {path} does not exist')
    return args


def main(argv=None):
    args = parse_args(argv)
    args.func(args)


if __name__ == '__main__':
    sys.exit(run_main(main))
