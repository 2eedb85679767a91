"""Draw the ASL overview diagram:
``python tools/draw_architecture.py --out docs/images/asl_overview.png``."""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from asl_mmaction.visualization.architecture import \
    draw_architecture  # noqa: E402
from asl_mmaction.utils.cli import add_debug_arg, run_main  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--out', default='docs/images/asl_overview.png',
                        help='PNG to write')
    parser.add_argument('--dpi', type=int, default=150)
    add_debug_arg(parser)
    args = parser.parse_args(argv)
    draw_architecture(args.out, dpi=args.dpi)
    print(f'wrote {args.out}')


if __name__ == '__main__':
    sys.exit(run_main(main))
