"""ASL's class-sensitivity modes against ActionFormer on the demo data.

Trains three variants with the same seed and schedule through MMEngine's
``Runner`` and tests the final (EMA) weights on the demo's validation clips:

* ``ASL normalized``: ``configs/asl/asl_demo.py`` as is (the Gaussian
  weights rescaled to mean 1 per segment);
* ``ASL reference``: the same with
  ``model.head.class_sensitivity.mode='reference'`` (the released code's raw
  Gaussians);
* ``ActionFormer``: ``configs/actionformer/actionformer_demo.py`` (every ASL
  component off).

Prints mAP@0.1..0.5 and their average per run, then mean +- std (sample
std) over the seeds per variant, and the ranking by mean average mAP.

Run: ``python bench/bench_sensitivity_modes.py [--seeds 0 1 2]
[--epochs 16] [--work-dir work_dirs/bench_sensitivity] [--threads N]``
"""
import argparse
import gc
import json
import os
import os.path as osp
import sys
import time

import numpy as np
import torch
from mmengine.config import Config
from mmengine.runner import Runner

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)
from asl_mmaction.datasets.demo_data import generate_demo_data  # noqa: E402
from asl_mmaction.utils.checkpoint import last_checkpoint_cfg  # noqa: E402

# (name, config, cfg-options)
VARIANTS = (
    ('ASL normalized', 'configs/asl/asl_demo.py',
     {'model.head.class_sensitivity.mode': 'normalized'}),
    ('ASL reference', 'configs/asl/asl_demo.py',
     {'model.head.class_sensitivity.mode': 'reference'}),
    ('ActionFormer', 'configs/actionformer/actionformer_demo.py', {}),
)
METRIC_KEYS = ('mAP@0.1', 'mAP@0.2', 'mAP@0.3', 'mAP@0.4', 'mAP@0.5', 'mAP')


def scale_schedule(cfg: Config, epochs: int) -> None:
    """Shorten (or stretch) the schedule to ``epochs``: every scheduler's
    ``begin`` / ``end`` scale with it, so warm-up and cosine keep their
    shares; a scheduler left with no epoch is dropped."""
    old = cfg.train_cfg.max_epochs
    if epochs == old:
        return
    schedulers = []
    for sched in cfg.param_scheduler:
        begin = round(sched.get('begin', 0) * epochs / old)
        end = min(round(sched.get('end', old) * epochs / old), epochs)
        if end <= begin:
            continue
        sched = dict(sched, begin=begin, end=end)
        if 'T_max' in sched:
            sched['T_max'] = end - begin
        schedulers.append(sched)
    # the warm-up no longer ends where the cosine begins: start it at 0
    if schedulers and schedulers[0]['begin'] > 0:
        schedulers[0]['begin'] = 0
        if 'T_max' in schedulers[0]:
            schedulers[0]['T_max'] = schedulers[0]['end']
    cfg.param_scheduler = schedulers
    cfg.train_cfg.max_epochs = epochs


def build_cfg(config: str, options: dict, seed: int, epochs: int,
              work_dir: str, data_root: str, verbose: bool) -> Config:
    cfg = Config.fromfile(osp.join(REPO, config))
    cfg.merge_from_dict(options)
    scale_schedule(cfg, epochs)
    cfg.work_dir = work_dir
    cfg.randomness = dict(cfg.get('randomness', {}), seed=seed)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = data_root
    # same budget for every variant: no validation while training, one
    # test of the final weights, one checkpoint at the end
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.default_hooks.checkpoint.update(interval=epochs, save_best=None)
    if not verbose:
        cfg.log_level = 'WARNING'
    return cfg


def run_variant(name, config, options, seed, args) -> dict:
    slug = name.lower().replace(' ', '_')
    work_dir = osp.join(args.work_dir, f'{slug}_seed{seed}')
    cfg = build_cfg(config, options, seed, args.epochs, work_dir,
                    args.data_root, args.verbose)
    start = time.time()
    # unique names: MMEngine shares loggers and message hubs by name
    cfg.experiment_name = f'{slug}_seed{seed}_train'
    Runner.from_cfg(cfg).train()
    # a fresh runner tests the saved EMA weights: the training runner's
    # test() would rebuild the EMA copy from the raw weights
    test_cfg = last_checkpoint_cfg(cfg)
    test_cfg.experiment_name = f'{slug}_seed{seed}_test'
    runner = Runner.from_cfg(test_cfg)
    metrics = runner.test()
    metrics = {k.split('/')[-1]: float(v) for k, v in metrics.items()}
    missing = [k for k in METRIC_KEYS if k not in metrics]
    if missing:
        raise KeyError(f'{name} seed {seed}: the test gave no {missing}; '
                       f'got {sorted(metrics)}')
    del runner
    gc.collect()
    print(f'[{name}, seed {seed}] average mAP {metrics["mAP"]:.4f} '
          f'({time.time() - start:.0f} s, {work_dir})', flush=True)
    return {k: metrics[k] for k in METRIC_KEYS}


def format_runs(runs: list) -> str:
    head = f'{"variant":<16}{"seed":>5}' + ''.join(
        f'{k:>9}' for k in METRIC_KEYS)
    lines = [head, '-' * len(head)]
    for run in runs:
        lines.append(f'{run["variant"]:<16}{run["seed"]:>5}' + ''.join(
            f'{100 * run["metrics"][k]:>9.2f}' for k in METRIC_KEYS))
    return '\n'.join(lines)


def summarise(runs: list) -> dict:
    """Per variant: mean and sample std (0 for one seed) of each metric."""
    summary = {}
    for name, _, _ in VARIANTS:
        values = np.array([[r['metrics'][k] for k in METRIC_KEYS]
                           for r in runs if r['variant'] == name])
        std = values.std(axis=0, ddof=1) if len(values) > 1 else \
            np.zeros(len(METRIC_KEYS))
        summary[name] = dict(mean=dict(zip(METRIC_KEYS, values.mean(0))),
                             std=dict(zip(METRIC_KEYS, std)),
                             seeds=len(values))
    return summary


def format_summary(summary: dict) -> str:
    head = f'{"variant":<16}' + ''.join(f'{k:>15}' for k in METRIC_KEYS)
    lines = [head, '-' * len(head)]
    for name, stats in summary.items():
        cells = [f'{100 * stats["mean"][k]:.2f} +- {100 * stats["std"][k]:.2f}'
                 for k in METRIC_KEYS]
        lines.append(f'{name:<16}' + ''.join(f'{c:>15}' for c in cells))
    ranking = sorted(summary, key=lambda n: -summary[n]['mean']['mAP'])
    lines.append('\nranking by mean average mAP: ' + ' > '.join(
        f'{n} ({100 * summary[n]["mean"]["mAP"]:.2f})' for n in ranking))
    return '\n'.join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--epochs', type=int, default=16,
                        help='training epochs of every run (the demo '
                        'configs use 16)')
    parser.add_argument('--work-dir',
                        default=osp.join(REPO, 'work_dirs/bench_sensitivity'))
    parser.add_argument('--data-root', default=osp.join(REPO, 'data/demo'))
    parser.add_argument('--json', default=osp.join(
        REPO, 'bench/results/sensitivity_modes.json'),
        help='where to write every run\'s metrics ("" to skip)')
    parser.add_argument('--threads', type=int, default=None,
                        help='torch.set_num_threads; 1 avoids thrashing on '
                        'a machine shared with other jobs')
    parser.add_argument('--verbose', action='store_true',
                        help='keep MMEngine\'s INFO log (losses, ...)')
    args = parser.parse_args()
    if args.epochs < 1:
        parser.error('--epochs must be >= 1')

    if args.threads:
        torch.set_num_threads(args.threads)
    generate_demo_data(args.data_root)
    print(f'{len(VARIANTS)} variants x seeds {args.seeds}, {args.epochs} '
          f'epochs each; data {args.data_root}', flush=True)
    runs = []
    for seed in args.seeds:
        for name, config, options in VARIANTS:
            runs.append(dict(variant=name, seed=seed, metrics=run_variant(
                name, config, options, seed, args)))
    summary = summarise(runs)
    print('\nmAP (%) of every run, validation clips, final EMA weights\n' +
          format_runs(runs))
    print(f'\nmean +- std over {len(args.seeds)} seed(s), mAP (%)\n' +
          format_summary(summary))
    if args.json:
        os.makedirs(osp.dirname(args.json) or '.', exist_ok=True)
        with open(args.json, 'w') as f:
            json.dump(dict(epochs=args.epochs, seeds=args.seeds, runs=runs,
                           summary=summary), f, indent=1)


if __name__ == '__main__':
    main()
