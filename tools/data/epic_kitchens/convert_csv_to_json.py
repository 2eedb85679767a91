"""EPIC-Kitchens-100 official CSVs -> ActionFormer-style JSON (one task).

    python tools/data/epic_kitchens/convert_csv_to_json.py \
        EPIC_100_train.csv EPIC_100_validation.csv \
        --video-info EPIC_100_video_info.csv \
        --class-file EPIC_100_verb_classes.csv --task verb \
        --out epic_kitchens_100_verb.json

Each CSV's split comes from its name. Durations and fps come from the
video info file; labels are the class keys of ``--class-file``.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__))))))
from asl_mmaction.datasets.annotation_files import \
    load_class_names  # noqa: E402
from asl_mmaction.datasets.epic_annotations import (  # noqa: E402
    parse_csv, read_video_info, records_to_actionformer_json)
from asl_mmaction.utils.atomic_files import atomic_write_json  # noqa: E402
from asl_mmaction.utils.cli import add_debug_arg, run_main  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('csv_files', nargs='+')
    parser.add_argument('--video-info', required=True)
    parser.add_argument('--class-file', required=True)
    parser.add_argument('--task', choices=['verb', 'noun'], required=True)
    parser.add_argument('--out', required=True)
    add_debug_arg(parser)
    args = parser.parse_args(argv)
    info = read_video_info(args.video_info)
    records = []
    for path in args.csv_files:
        records += parse_csv(path, args.task, info)
    data = records_to_actionformer_json(records,
                                        load_class_names(args.class_file))
    atomic_write_json(data, args.out)
    n_seg = sum(len(v['annotations']) for v in data['database'].values())
    print(f"wrote {len(data['database'])} videos, {n_seg} segments to "
          f'{args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(run_main(main))
