"""THUMOS14 / MultiTHUMOS text files or Charades CSVs -> one ActivityNet-style
JSON (the layout of ActionFormer's files), read back by every dataset.

    python tools/data/activitynet_style/convert_to_json.py --dataset thumos14 \
        TH14_Temporal_annotations_validation/annotation \
        TH14_Temporal_Annotations_Test/annotations/annotation \
        --video-info thumos14.json --out thumos14_release.json
    python tools/data/activitynet_style/convert_to_json.py \
        --dataset multithumos multithumos/annotations \
        --class-file multithumos/class_list.txt \
        --video-info thumos14.json --out multithumos.json
    python tools/data/activitynet_style/convert_to_json.py --dataset charades \
        Charades_v1_train.csv Charades_v1_test.csv \
        --class-file Charades_v1_classes.txt --out charades.json

The files are read by the datasets' own parsers (THUMOS14's ``Ambiguous``
left out, Charades' actions with end <= start left out); ``label_id``
follows the class rule of docs/datasets.md. Videos without a duration in
``--video-info`` are written without one (a dataset then needs
``duration_from_features=True``).
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__))))))
from asl_mmaction.datasets.activitynet_annotations import (  # noqa: E402
    records_to_activitynet_json)
from asl_mmaction.datasets.annotation_files import (  # noqa: E402
    class_names_from_records, label_ids_of_record, read_indexed_class_list)
from asl_mmaction.datasets.charades_annotations import \
    read_charades_csv  # noqa: E402
from asl_mmaction.datasets.tad_errors import TADDataError  # noqa: E402
from asl_mmaction.datasets.thumos_annotations import (  # noqa: E402
    read_multithumos_txt, read_thumos14_txt)
from asl_mmaction.utils.atomic_files import atomic_write_json  # noqa: E402
from asl_mmaction.utils.cli import add_debug_arg, run_main  # noqa: E402


def read_sources(dataset, sources, class_names, video_info):
    """Records of every source (folders / files), one class list."""
    records = []
    for source in sources:
        if dataset == 'thumos14':
            part, _ = read_thumos14_txt(source, class_names, video_info)
        elif dataset == 'multithumos':
            part, _ = read_multithumos_txt(source, class_names, video_info)
        else:
            part, _ = read_charades_csv(source, class_names)
        records += part
    seen = set()
    for rec in records:
        if rec['video_name'] in seen:
            raise TADDataError(f"video {rec['video_name']} appears in two of "
                               f'{sources}')
        seen.add(rec['video_name'])
    classes = class_names_from_records(records, class_names,
                                       ', '.join(sources))
    for rec in records:
        rec['label_ids'] = label_ids_of_record(rec, classes)
    return records, classes


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('sources', nargs='+',
                        help='folders of per-class .txt files or CSVs')
    parser.add_argument('--dataset', required=True,
                        choices=['thumos14', 'multithumos', 'charades'])
    parser.add_argument('--class-file',
                        help='"<id> <name>" lines (class_list.txt, '
                        'Charades_v1_classes.txt)')
    parser.add_argument('--video-info',
                        help='durations / fps: video_id,duration,fps CSV or '
                        'an ActivityNet-style JSON (thumos14.json)')
    parser.add_argument('--out', required=True)
    add_debug_arg(parser)
    args = parser.parse_args(argv)
    class_names = (read_indexed_class_list(args.class_file)
                   if args.class_file else None)
    records, classes = read_sources(args.dataset, args.sources, class_names,
                                    args.video_info)
    data = records_to_activitynet_json(records, classes,
                                       version=f'{args.dataset}-converted')
    atomic_write_json(data, args.out)
    n_seg = sum(len(v['annotations']) for v in data['database'].values())
    print(f"wrote {len(data['database'])} videos, {n_seg} segments, "
          f'{len(classes)} classes to {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(run_main(main))
