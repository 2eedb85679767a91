"""Draw prediction timelines or the learned sensitivity curves as PNGs.

    # ground truth vs predictions, one PNG per video (+ overview.png)
    python tools/visualize.py timeline PREDICTIONS.json \\
        --ann-file ANN --dataset ego4d_mq|epic_kitchens_100 \\
        [--subset val] [--task verb] --out DIR [--top-k 10] [--score-thr 0]

    # class-level sensitivity Gaussians of a trained model
    python tools/visualize.py sensitivity CONFIG CHECKPOINT \\
        --classes 0 3 5 --out FILE.png

``--top-k`` best predictions per video are drawn whatever their scores (a
model's scores are relative: the demo model's best are ~0.15);
``--score-thr`` hides lower ones as well. The sensitivity plot names the
classes from the config's dataset (``--ann-file`` to read them from an
annotation file instead).

``PREDICTIONS.json`` is what ``tools/test.py --out`` (the metric) writes,
in the ``ego4d_mq`` or ``actionformer`` layout. ``ANN`` is the converted
Ego4D-MQ JSON, ActionFormer's EPIC JSON, or ``EPIC_100_validation.csv``.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from tqdm import tqdm  # noqa: E402

from asl_mmaction.evaluation.functional import (  # noqa: E402
    load_predictions, read_tad_annotations)
from asl_mmaction.utils.cli import (ToolError, add_debug_arg,  # noqa: E402
                                    run_main)
from asl_mmaction.visualization.timeline import (  # noqa: E402
    DEFAULT_SCORE_THR, DEFAULT_TOP_K, draw_timelines, draw_video_timeline,
    safe_file_name)

DATASETS = ('ego4d_mq', 'epic_kitchens_100')


def timeline_videos(pred_file: str, ann_file: str, dataset: str,
                    subset: str = 'val', task: str = 'verb'):
    """Join predictions and ground truth by video.

    Returns:
        tuple: ``videos`` (list of dicts as :func:`draw_timelines` takes, in
        annotation order, only videos with predictions), the class names
        and the prediction videos missing from the annotations.
    """
    if dataset not in DATASETS:
        raise ToolError(f'--dataset must be one of {DATASETS}, '
                        f'got {dataset!r}')
    if dataset == 'ego4d_mq' and not ann_file.endswith('.json'):
        raise ToolError(f'{ann_file}: Ego4D-MQ annotations are the '
                        'converted JSON file')
    # An EPIC CSV is one split already; JSON files hold several.
    gt, classes = read_tad_annotations(
        ann_file, subset=None if ann_file.endswith('.csv') else subset,
        task=task)
    preds = load_predictions(pred_file, classes=classes)
    unknown = sorted(set(preds) - set(gt))
    if preds and len(unknown) == len(preds):
        raise ToolError(f'{pred_file}: none of its {len(preds)} videos is '
                        f'in {ann_file} (subset {subset!r}); wrong file or '
                        'subset?')
    videos = []
    for name, info in gt.items():
        if name not in preds:
            continue
        videos.append(dict(video_name=name, duration=info['duration'],
                           ann_segments=info['segments'],
                           ann_labels=info['labels'],
                           pred_instances=preds[name]))
    return videos, classes, unknown


def run_timeline(args) -> None:
    videos, classes, unknown = timeline_videos(
        args.predictions, args.ann_file, args.dataset, args.subset,
        args.task)
    if unknown:
        print(f'warning: {len(unknown)} predicted videos are not in the '
              f'annotations and are skipped, e.g. {unknown[:3]}')
    if args.videos:
        wanted = set(args.videos)
        videos = [v for v in videos if v['video_name'] in wanted]
        missing = wanted - {v['video_name'] for v in videos}
        if missing:
            raise ToolError(f'videos not found: {sorted(missing)}')
    if args.max_videos is not None:
        videos = videos[:args.max_videos]
    if not videos:
        raise ToolError('no video to draw')
    os.makedirs(args.out, exist_ok=True)
    for video in tqdm(videos, desc='timelines', unit='video'):
        draw_video_timeline(
            video, osp.join(args.out,
                            safe_file_name(video['video_name']) + '.png'),
            classes, score_thr=args.score_thr, top_k=args.top_k)
    draw_timelines(videos, osp.join(args.out, 'overview.png'), classes,
                   score_thr=args.score_thr, max_videos=8, top_k=args.top_k)
    print(f'wrote {len(videos)} timelines and overview.png to {args.out}')


def load_sensitivity_evaluator(config: str, checkpoint: str):
    """Build the model of ``config``, load ``checkpoint`` and return its
    ``ClassSensitivityEvaluator``."""
    evaluator, _ = load_sensitivity_model(config, checkpoint)
    return evaluator


def load_sensitivity_model(config: str, checkpoint: str):
    """``(ClassSensitivityEvaluator, class names or None)`` of a trained
    model: the names the checkpoint was trained with (its
    ``meta.dataset_meta``), else those of the config's dataset."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmengine.runner import load_checkpoint

    import asl_mmaction  # noqa: F401  (registers the components)
    from asl_mmaction.utils import trusted_checkpoints
    from asl_mmaction.visualization.sensitivity_curves import \
        find_class_sensitivity
    from mmaction.registry import MODELS

    cfg = Config.fromfile(config)
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    model = MODELS.build(cfg.model)
    if not osp.isfile(checkpoint):
        raise ToolError(f'checkpoint {checkpoint} does not exist')
    with trusted_checkpoints([checkpoint]):  # named by the user
        ckpt = load_checkpoint(model, checkpoint, map_location='cpu',
                               logger='silent')
    evaluator = find_class_sensitivity(model)
    if evaluator is None:
        raise ToolError(f'{config}: the model has no '
                        'ClassSensitivityEvaluator (an ActionFormer '
                        'baseline?), nothing to draw')
    meta = (ckpt.get('meta') or {}).get('dataset_meta') or {}
    classes = meta.get('classes') or config_class_names(cfg)
    return evaluator, None if classes is None else list(classes)


def config_class_names(cfg):
    """Class names of the config's test (else val, train) dataset, None
    when it cannot be built (e.g. its annotation file is elsewhere)."""
    from asl_mmaction.datasets.preflight import build_split_dataset
    for split in ('test', 'val', 'train'):
        if not cfg.get(f'{split}_dataloader'):
            continue
        try:
            dataset = build_split_dataset(cfg, split)
        except Exception as exc:  # data not here: label ids instead
            print(f'warning: class names not read from the config\'s '
                  f'{split} dataset ({type(exc).__name__}: {exc}); pass '
                  '--ann-file for names')
            return None
        return dataset.metainfo.get('classes')
    return None


def run_sensitivity(args) -> None:
    from asl_mmaction.visualization.sensitivity_curves import \
        draw_sensitivity_curves
    evaluator, class_names = load_sensitivity_model(args.config,
                                                    args.checkpoint)
    if args.ann_file:
        _, class_names = read_tad_annotations(args.ann_file,
                                              task=args.task)
    classes = args.classes if args.classes else list(
        range(min(6, evaluator.num_classes)))
    draw_sensitivity_curves(evaluator, classes, class_names, args.out)
    print(f'wrote {args.out}')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = parser.add_subparsers(dest='task_name', required=True)
    p = sub.add_parser('timeline', help='ground truth vs predictions')
    p.add_argument('predictions', help='prediction JSON of the metric')
    p.add_argument('--ann-file', required=True)
    p.add_argument('--dataset', required=True, choices=DATASETS)
    p.add_argument('--subset', default='val',
                   help='subset of a JSON annotation file')
    p.add_argument('--task', default='verb', choices=['verb', 'noun'],
                   help='EPIC-KITCHENS classes')
    p.add_argument('--out', required=True, help='output folder')
    p.add_argument('--top-k', type=int, default=DEFAULT_TOP_K,
                   help='draw the best this many predictions per video')
    p.add_argument('--score-thr', type=float, default=DEFAULT_SCORE_THR,
                   help='also hide predictions scoring below this')
    p.add_argument('--max-videos', type=int)
    p.add_argument('--videos', nargs='+', help='only these videos')
    p.set_defaults(func=run_timeline)
    p = sub.add_parser('sensitivity', help='class-level sensitivity curves')
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('--classes', type=int, nargs='+',
                   help='class ids (default: the first 6)')
    p.add_argument('--ann-file', help='read the class names from this '
                   'annotation file (default: the checkpoint\'s, else the '
                   'config dataset\'s)')
    p.add_argument('--task', default='verb', choices=['verb', 'noun'],
                   help='EPIC-KITCHENS classes (with --ann-file)')
    p.add_argument('--out', required=True, help='PNG to write')
    p.set_defaults(func=run_sensitivity)
    for p in sub.choices.values():
        add_debug_arg(p)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    args.func(args)


if __name__ == '__main__':
    sys.exit(run_main(main))
