"""Ego4D-MQ official ``moments_*.json`` -> the converted per-clip JSON.

    python tools/data/ego4d/convert_moments_to_clips.py \
        moments_train.json moments_val.json moments_test_unannotated.json \
        --out ego4d_clip_annotations.json [--class-names classes.txt]

Keeps ``primary`` labels only (``--all-labels`` keeps every label), drops
train / val clips left without a label and keeps test clips unlabelled, as
Ego4D's own converter does. ``label_id`` follows ``--class-names`` (one
name a line; e.g. the list ``convert_clips_to_moments.py`` writes) or, by
default, the sorted label names. ``fps`` and ``v_duration`` are not in the
official files: the dataset config must then set ``fps``.
"""
import argparse
import json
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__))))))
from asl_mmaction.datasets.annotation_files import (  # noqa: E402
    load_class_names, read_json)
from asl_mmaction.datasets.ego4d_annotations import \
    moments_to_clips  # noqa: E402
from asl_mmaction.utils.cli import add_debug_arg, run_main  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('moment_files', nargs='+')
    parser.add_argument('--out', required=True)
    parser.add_argument('--class-names', help='class list, one a line')
    parser.add_argument('--all-labels', action='store_true',
                        help='keep non-primary labels too')
    add_debug_arg(parser)
    args = parser.parse_args(argv)
    classes = load_class_names(args.class_names) if args.class_names else None
    clips = moments_to_clips([read_json(p) for p in args.moment_files],
                             args.moment_files, classes,
                             primary_only=not args.all_labels)
    with open(args.out, 'w') as f:
        json.dump(clips, f)
    n_seg = sum(len(c['annotations']) for c in clips.values())
    print(f'wrote {len(clips)} clips, {n_seg} segments to {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(run_main(main))
