"""The converted per-clip Ego4D-MQ JSON -> the official moments layout.

    python tools/data/ego4d/convert_clips_to_moments.py \
        ego4d_clip_annotations.json --out-dir annotations/

Writes ``moments_train.json``, ``moments_val.json`` and
``moments_test_unannotated.json`` (those present), plus
``ego4d_mq_classes.txt``: the class names in ``label_id`` order, so that the
official files read with ``class_names='.../ego4d_mq_classes.txt'`` keep the
converted file's ids. Labels go under one annotator, all ``primary``.
"""
import argparse
import json
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__))))))
from asl_mmaction.datasets.annotation_files import read_json  # noqa: E402
from asl_mmaction.datasets.ego4d_annotations import (  # noqa: E402
    SPLIT_FILES, clips_to_moments, label_map_from_records, parse_clip_layout)
from asl_mmaction.utils.cli import add_debug_arg, run_main  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('clip_file')
    parser.add_argument('--out-dir', required=True)
    add_debug_arg(parser)
    args = parser.parse_args(argv)
    clips = read_json(args.clip_file)
    os.makedirs(args.out_dir, exist_ok=True)
    for split, moments in clips_to_moments(clips, args.clip_file).items():
        path = osp.join(args.out_dir, SPLIT_FILES[split])
        with open(path, 'w') as f:
            json.dump(moments, f)
        n_clips = sum(len(v['clips']) for v in moments['videos'])
        print(f'wrote {n_clips} {split} clips to {path}')
    classes = label_map_from_records(
        parse_clip_layout(clips, args.clip_file), None, args.clip_file)
    with open(osp.join(args.out_dir, 'ego4d_mq_classes.txt'), 'w') as f:
        f.write('\n'.join(classes) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(run_main(main))
