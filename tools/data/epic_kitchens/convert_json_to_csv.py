"""ActionFormer-style EPIC-Kitchens JSON -> official-style CSVs (one task).

    python tools/data/epic_kitchens/convert_json_to_csv.py \
        epic_kitchens_100_verb.json --task verb \
        --class-file EPIC_100_verb_classes.csv --out-dir annotations/

Writes ``EPIC_100_train.csv`` / ``EPIC_100_validation.csv`` /
``EPIC_100_test_timestamps.csv`` (the subsets present) with the columns a
one-task JSON can rebuild: ``narration_id, participant_id, video_id,
start_timestamp, stop_timestamp, start_frame, stop_frame, {task},
{task}_class`` (narrations and the other task are not in the JSON).
"""
import argparse
import csv
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__))))))
from asl_mmaction.datasets.annotation_files import (  # noqa: E402
    load_class_names, read_json)
from asl_mmaction.datasets.epic_annotations import (  # noqa: E402
    names_from_records, parse_actionformer_json, records_to_csv_rows)
from asl_mmaction.utils.cli import add_debug_arg, run_main  # noqa: E402

SPLIT_FILES = dict(train='EPIC_100_train.csv', val='EPIC_100_validation.csv',
                   test='EPIC_100_test_timestamps.csv')


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('json_file')
    parser.add_argument('--task', choices=['verb', 'noun'], required=True)
    parser.add_argument('--class-file')
    parser.add_argument('--out-dir', required=True)
    add_debug_arg(parser)
    args = parser.parse_args(argv)
    records = parse_actionformer_json(read_json(args.json_file),
                                      args.json_file)
    classes = (load_class_names(args.class_file) if args.class_file else
               names_from_records(records, args.json_file))
    os.makedirs(args.out_dir, exist_ok=True)
    for split, name in SPLIT_FILES.items():
        chosen = [r for r in records if r['subset'] == split]
        if not chosen:
            continue
        rows = records_to_csv_rows(chosen, args.task, classes)
        path = osp.join(args.out_dir, name)
        with open(path, 'w', newline='') as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else
                                    ['video_id'])
            writer.writeheader()
            writer.writerows(rows)
        print(f'wrote {len(rows)} segments of {len(chosen)} {split} videos '
              f'to {path}')
    return 0


if __name__ == '__main__':
    sys.exit(run_main(main))
