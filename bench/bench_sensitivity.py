"""ASL's sensitivity variants against ActionFormer, same seeds and budget:
mAP, and whether the class-level sensitivity finds the classes' key
positions.

Data (``--data``):

* ``semi_real`` (default): real EPIC-Kitchens-100 validation annotations with
  generated features whose class evidence peaks at a known, class-specific
  key position inside every action (``bench/semi_real_data.py``); configs:
  the project's EPIC verb configs with ``bench/configs/semi_real_epic_verb.py``
  merged on top (data, width 64);
* ``flat``: the control, same annotations and total evidence, no key
  position (a learned profile should stay flat there);
* ``demo``: the embedded demo clips (``configs/*/*_demo.py`` as they are;
  their class evidence peaks at the centre of every action, 0.5).

Variants (``--variants``, all through the project's configs):

* ``af``: the ActionFormer twin (``configs/actionformer/...``, ASL off);
* ``class``: ASL config, class-level sensitivity only;
* ``class_inst``: class + instance sensitivity (no contrastive loss);
* ``full``: the ASL config as it is;
* ``reference``: ``full`` with ``class_sensitivity.mode='reference'``;
* ``normalized``: ``full`` with ``class_sensitivity.mode='normalized'``.

Each run trains through MMEngine's ``Runner`` with validation off, then a
fresh runner tests the saved (EMA) weights of the last checkpoint. Printed:
mAP per run and mean +- sample std per variant; for variants with class
sensitivity, the recovery error ``|learned - true key position|`` per class
with at least ``--min-instances`` training segments, where the learned key
position is the argmax over ``p in [0, 1]`` of the class's ``cls`` Gaussian
read from the checkpoint (``x = p - 0.5``: ``normalized`` coordinates, the
finest level's in ``reference`` mode); the learned profiles as PNGs
(``tools/visualize.py sensitivity``). Results also go to ``--json``.

    python bench/bench_sensitivity.py \
        --variants af,class,class_inst,full,reference --seeds 0 1 2
    python bench/bench_sensitivity.py --data flat --variants full,reference
    python bench/bench_sensitivity.py --data demo --variants af,full,reference
    python bench/bench_sensitivity.py --quick        # seconds: smoke test
"""
import argparse
import gc
import importlib.util
import json
import os
import os.path as osp
import subprocess
import sys
import time
from typing import Dict, List, Optional

import numpy as np
import torch

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)
BENCH_DIR = osp.dirname(osp.abspath(__file__))
if BENCH_DIR not in sys.path:
    sys.path.insert(0, BENCH_DIR)
from mmengine.config import Config  # noqa: E402

import semi_real_data  # noqa: E402

METRIC_KEYS = ('mAP@0.1', 'mAP@0.2', 'mAP@0.3', 'mAP@0.4', 'mAP@0.5', 'mAP')
# name -> (config kind, cfg-options on top of that config)
VARIANTS = {
    'af': ('af', {}),
    'class': ('asl', {'model.head.instance_sensitivity': None,
                      'model.head.contrastive_loss': None}),
    'class_inst': ('asl', {'model.head.contrastive_loss': None}),
    'full': ('asl', {}),
    'reference': ('asl', {'model.head.class_sensitivity.mode': 'reference'}),
    'normalized': ('asl',
                   {'model.head.class_sensitivity.mode': 'normalized'}),
}
EPIC_CONFIGS = dict(
    asl='configs/asl/asl_epic_kitchens_100_verb.py',
    af='configs/actionformer/actionformer_epic_kitchens_100_verb.py',
    patch='bench/configs/semi_real_epic_verb.py')
DATASETS = {
    'semi_real': dict(EPIC_CONFIGS, generator='peaked'),
    'flat': dict(EPIC_CONFIGS, generator='flat'),
    'demo': dict(asl='configs/asl/asl_demo.py',
                 af='configs/actionformer/actionformer_demo.py', patch=None,
                 generator=None),
}
# The bench's budget on the semi-real data (the EPIC recipe's schedule
# shape, shortened): 12 epochs, 2 of them warm-up; see --help.
SEMI_REAL_BUDGET = dict(epochs=12, warmup_epochs=2, lr=1e-3,
                        ema_momentum=0.01)
# The demo's centre-peaked class evidence (asl_mmaction/datasets/demo_data)
DEMO_KEY_POSITION = 0.5


# ------------------------------------------------------------------ configs
def set_schedule(cfg: Config, epochs: int, warmup_epochs: int) -> None:
    """``epochs`` in all, the first ``warmup_epochs`` of them warm-up;
    scheduler types and their other settings stay the config's.

    Two layouts are understood: one scheduler with a ``warmup`` (epochs)
    argument whose decay ends at ``max_epochs`` (``LinearWarmupCosineLR``),
    or a warm-up scheduler on ``[0, W)`` followed by a main one on
    ``[W, E)`` (MMEngine's ``LinearLR`` + ``CosineAnnealingLR``, whose
    ``T_max`` follows; ``warmup_epochs=0`` drops the warm-up one).
    """
    if not 0 <= warmup_epochs < epochs:
        raise ValueError(f'need 0 <= warmup_epochs < epochs, got '
                         f'{warmup_epochs} / {epochs}')
    scheds = [dict(s) for s in cfg.param_scheduler]
    if len(scheds) == 1 and 'warmup' in scheds[0]:
        scheds[0]['warmup'] = warmup_epochs
        for key in ('begin', 'end'):
            scheds[0].pop(key, None)
    elif len(scheds) == 2:
        warm, main = scheds
        warm.update(begin=0, end=warmup_epochs)
        main.update(begin=warmup_epochs, end=epochs)
        if 'T_max' in main:
            main['T_max'] = epochs - warmup_epochs
        scheds = ([warm] if warmup_epochs else []) + [main]
    else:
        raise ValueError(
            'set_schedule expects one scheduler with a warmup argument, or '
            f'a warm-up and a main scheduler; the config has '
            f'{[s["type"] for s in scheds]}')
    cfg.param_scheduler = scheds
    cfg.train_cfg.max_epochs = epochs


def set_ema_momentum(cfg: Config, momentum: float) -> None:
    hooks = [h for h in cfg.custom_hooks if h['type'] == 'EMAHook']
    if len(hooks) != 1:
        raise ValueError(f'expected one EMAHook in custom_hooks, got '
                         f'{len(hooks)}')
    hooks[0]['momentum'] = momentum


def build_cfg(args, data: dict, variant: str, seed: int,
              work_dir: str) -> Config:
    """The run's config: project config + data patch + variant + budget."""
    kind, options = VARIANTS[variant]
    cfg = Config.fromfile(osp.join(args.repo, data[kind]))
    if data['patch']:
        patch = Config.fromfile(osp.join(BENCH_DIR, '..', data['patch']))
        cfg.merge_from_dict(patch.to_dict())
    cfg.merge_from_dict(options)
    data_root = data['data_root']
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = data_root
    if args.train_indices:
        cfg.train_dataloader.dataset.indices = args.train_indices
    if args.epochs is not None:
        set_schedule(cfg, args.epochs, args.warmup_epochs)
    if args.lr is not None:
        cfg.optim_wrapper.optimizer.lr = args.lr
    if args.ema_momentum is not None:
        set_ema_momentum(cfg, args.ema_momentum)
    if args.max_seq_len is not None:
        for t in cfg.train_dataloader.dataset.pipeline:
            if 'max_seq_len' in t:
                t['max_seq_len'] = args.max_seq_len
    cfg.work_dir = work_dir
    cfg.randomness = dict(cfg.get('randomness', {}), seed=seed)
    # the same budget for every variant: no validation while training, one
    # checkpoint at the end, one test of its (EMA) weights
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    epochs = cfg.train_cfg.max_epochs
    cfg.default_hooks.checkpoint.update(interval=epochs, save_best=None,
                                        max_keep_ckpts=1)
    cfg.default_hooks.logger.interval = 50
    cfg.test_evaluator = dict(cfg.test_evaluator, outfile_prefix=osp.join(
        work_dir, 'predictions'))
    if not args.verbose:
        cfg.log_level = 'WARNING'
    return cfg


def describe_budget(cfg: Config) -> str:
    scheds = ', '.join(
        f"{s['type']} (warm-up {s['warmup']} epochs)" if 'warmup' in s else
        f"{s['type']} [{s.get('begin', 0)}, {s.get('end')})"
        for s in cfg.param_scheduler)
    ema = [h for h in cfg.custom_hooks if h['type'] == 'EMAHook']
    keys = (cfg.optim_wrapper.get('paramwise_cfg') or {}).get(
        'custom_keys') or {}
    mults = ''.join(f', {k} lr x {v["lr_mult"]}' for k, v in keys.items()
                    if 'lr_mult' in v)
    return (f'{cfg.train_cfg.max_epochs} epochs ({scheds}), lr '
            f'{cfg.optim_wrapper.optimizer.lr}{mults}, batch '
            f'{cfg.train_dataloader.batch_size}, EMA momentum '
            f"{ema[0]['momentum'] if ema else None}")


# --------------------------------------------------------------------- runs
def train_and_test(cfg: Config, name: str) -> dict:
    """Train, then test the last checkpoint in a fresh runner."""
    from mmengine.runner import Runner
    from asl_mmaction.utils.checkpoint import last_checkpoint_cfg

    stamp = time.strftime('%H%M%S')
    cfg.experiment_name = f'{name}_{stamp}_train'
    start, cpu_start = time.time(), time.process_time()
    Runner.from_cfg(cfg).train()
    train_s = time.time() - start
    # CPU time: the run's cost on a machine shared with other jobs
    train_cpu_s = time.process_time() - cpu_start
    test_cfg = last_checkpoint_cfg(cfg)
    test_cfg.experiment_name = f'{name}_{stamp}_test'
    runner = Runner.from_cfg(test_cfg)
    metrics = runner.test()
    checkpoint = test_cfg.load_from
    # AP per class name (mean over tIoU), classes with validation segments
    per_class_ap = dict(runner.test_evaluator.metrics[0].per_class_ap)
    classes = list(runner.test_dataloader.dataset.metainfo['classes'])
    del runner
    gc.collect()
    metrics = {k.split('/')[-1]: float(v) for k, v in metrics.items()}
    missing = [k for k in METRIC_KEYS if k not in metrics]
    if missing:
        raise KeyError(f'{name}: the test gave no {missing}; got '
                       f'{sorted(metrics)}')
    return dict(metrics={k: metrics[k] for k in METRIC_KEYS},
                per_class_ap=per_class_ap, classes=classes,
                checkpoint=checkpoint, train_s=train_s,
                train_cpu_s=train_cpu_s,
                test_s=time.time() - start - train_s)


def class_sensitivity_module(cfg: Config, checkpoint: str):
    """The run's ``ClassSensitivityEvaluator`` with the checkpoint's (EMA)
    ``head.class_sensitivity.*`` tensors, or None when the model has none."""
    from mmengine.registry import init_default_scope
    from mmaction.registry import MODELS

    sens_cfg = cfg.model.head.get('class_sensitivity')
    if sens_cfg is None:
        return None
    init_default_scope('mmaction')
    # as the head builds it: the config's own values win
    module = MODELS.build(sens_cfg, default_args=dict(
        num_classes=cfg.model.head.num_classes,
        in_channels=cfg.model.head.in_channels))
    state = torch.load(checkpoint, map_location='cpu', weights_only=False)
    prefix = 'head.class_sensitivity.'
    own = {k[len(prefix):]: v for k, v in state['state_dict'].items()
           if k.startswith(prefix)}
    module.load_state_dict(own)
    return module.eval()


def learned_cls_profiles(module, num_points: int = 201) -> dict:
    """``cls`` profile of every class over ``p in [0, 1]``.

    The module's own ``curves`` (the plug-in interface: stride 1) when it
    has them, else (older code) the peak-1 Gaussian of its ``mu`` and
    effective sigma.

    Returns:
        dict: ``p`` [P], ``profile`` [K, P], ``key`` [K] (argmax
        position), ``contrast`` [K] (1 - min / max over ``[0, 1]``: 0 for a
        flat profile), ``mu`` / ``sigma`` [K] of the ``cls`` Gaussian.
    """
    mu = module.mu.detach()[:, 0].double().numpy()
    sigma = module.effective_sigma().detach()[:, 0].double().numpy()
    p = np.linspace(0.0, 1.0, num_points)
    x = p - 0.5  # centre 0, start -0.5, end +0.5
    if hasattr(module, 'curves'):
        profile = module.curves(torch.from_numpy(x))[:, 0].double().numpy()
    else:
        profile = np.exp(-(x[None] - mu[:, None]) ** 2 /
                         (2 * sigma[:, None] ** 2))
    return dict(p=p, profile=profile, key=p[profile.argmax(axis=1)],
                contrast=1 - profile.min(axis=1) / profile.max(axis=1),
                mu=mu, sigma=sigma)


def recovery(profiles: dict, true_key: np.ndarray,
             counts: np.ndarray, min_instances: int) -> dict:
    """Per class with ``counts >= min_instances``: true / learned key
    position and their absolute difference (segment lengths)."""
    classes = np.nonzero(counts >= min_instances)[0]
    learned, true = profiles['key'][classes], true_key[classes]
    err = np.abs(learned - true)
    # Does the profile move the right way, however little? Pearson
    # correlation of learned and true positions over the classes (NaN when
    # either is constant) and the share of classes whose learned shift
    # from the centre has the sign of the true one.
    corr = float('nan')
    if len(classes) > 1 and np.ptp(learned) > 0 and np.ptp(true) > 0:
        corr = float(np.corrcoef(learned, true)[0, 1])
    moved = np.abs(learned - 0.5) > 1e-3
    same_side = np.sign(learned - 0.5) == np.sign(true - 0.5)
    return dict(classes=classes.tolist(), true=true.tolist(),
                learned=learned.tolist(), error=err.tolist(),
                contrast=profiles['contrast'][classes].tolist(),
                mean_error=float(err.mean()) if len(err) else float('nan'),
                within_0_1=int((err <= 0.1).sum()), corr=corr,
                # the same error of the initial, centred profile
                centre_error=float(np.abs(true - 0.5).mean())
                if len(err) else float('nan'),
                same_side=float((moved & same_side).mean())
                if len(err) else float('nan'))


def draw_profiles(args, cfg: Config, cfg_path: str, checkpoint: str,
                  classes: List[int], out_png: str) -> str:
    """The learned curves through ``tools/visualize.py sensitivity``
    (class names from the training annotation file)."""
    script = osp.join(args.repo, 'tools', 'visualize.py')
    spec = importlib.util.spec_from_file_location('asl_visualize', script)
    visualize = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(visualize)
    visualize.main(['sensitivity', cfg_path, checkpoint, '--classes',
                    *[str(c) for c in classes], '--out', out_png,
                    '--ann-file', train_ann_file(cfg)])
    return out_png


def train_ann_file(cfg: Config) -> str:
    """Path of the training annotation file (the demo dataset's is
    implied by its class)."""
    ds = cfg.train_dataloader.dataset
    ann = ds.get('ann_file')
    if ann is None and ds.type == 'DemoTADDataset':
        from asl_mmaction.datasets.demo_data import ANN_FILE as ann
    return osp.join(ds.data_root, ann)


def training_counts(cfg: Config, num_classes: int) -> np.ndarray:
    """Training segments per class, from the training annotation file."""
    from asl_mmaction.evaluation.functional import read_tad_annotations
    videos, _ = read_tad_annotations(train_ann_file(cfg), subset='train')
    labels = np.concatenate([v['labels'] for v in videos.values()] or
                            [np.zeros(0, int)])
    return np.bincount(labels.astype(int), minlength=num_classes)


def frequent_map(per_class_ap: Dict[str, float], classes: List[str],
                 counts: np.ndarray, min_instances: int) -> float:
    """Mean AP (over tIoU and classes) of the classes with at least
    ``min_instances`` training segments and some validation segment."""
    aps = [per_class_ap[classes[c]] for c in np.nonzero(
        counts >= min_instances)[0] if classes[c] in per_class_ap]
    return float(np.mean(aps)) if aps else float('nan')


def run_one(args, data: dict, variant: str, seed: int) -> dict:
    name = f'{args.data}_{variant}_seed{seed}'
    work_dir = osp.join(args.work_dir, name)
    cfg = build_cfg(args, data, variant, seed, work_dir)
    os.makedirs(work_dir, exist_ok=True)
    cfg_path = osp.join(work_dir, 'bench_config.py')
    cfg.dump(cfg_path)
    if not args.budget_printed:
        print(f'budget: {describe_budget(cfg)}', flush=True)
        args.budget_printed = True
    result = train_and_test(cfg, name)
    classes = result.pop('classes')
    run = dict(variant=variant, seed=seed, work_dir=work_dir, **result)
    num_classes = cfg.model.head.num_classes
    counts = training_counts(cfg, num_classes)
    run['frequent_mAP'] = frequent_map(run['per_class_ap'], classes, counts,
                                       args.min_instances)
    module = class_sensitivity_module(cfg, result['checkpoint'])
    if module is not None:
        profiles = learned_cls_profiles(module)
        run['mode'] = module.mode
        run['recovery'] = recovery(profiles, data['true_key'](num_classes),
                                   counts, args.min_instances)
        if data['generator'] == 'flat':
            # no true key position: how far from the initial centre, and
            # how far from the peaked set's key positions (chance level)
            run['recovery']['from_centre'] = recovery(
                profiles, np.full(num_classes, 0.5), counts,
                args.min_instances)['mean_error']
        chosen = run['recovery']['classes'][:args.max_plot_classes] or [0]
        if args.plots:
            run['png'] = draw_profiles(
                args, cfg, cfg_path, result['checkpoint'], chosen,
                osp.join(work_dir, 'cls_profiles.png'))
    print(f"[{name}] mAP {100 * run['metrics']['mAP']:.2f}  train "
          f"{run['train_s']:.0f} s (CPU {run['train_cpu_s']:.0f} s), test "
          f"{run['test_s']:.0f} s"
          + (f"; key-position error {run['recovery']['mean_error']:.3f}"
             if 'recovery' in run else ''), flush=True)
    return run


# ------------------------------------------------------------------ reports
def summarise(runs: List[dict]) -> Dict[str, dict]:
    """Per variant: mean and sample std (0 for one seed) of each metric
    and of the mean recovery error."""
    summary = {}
    for variant in dict.fromkeys(r['variant'] for r in runs):
        mine = [r for r in runs if r['variant'] == variant]
        values = np.array([[r['metrics'][k] for k in METRIC_KEYS]
                           for r in mine])
        std = values.std(axis=0, ddof=1) if len(mine) > 1 else \
            np.zeros(len(METRIC_KEYS))
        entry = dict(seeds=[r['seed'] for r in mine],
                     mean=dict(zip(METRIC_KEYS, values.mean(0).tolist())),
                     std=dict(zip(METRIC_KEYS, std.tolist())),
                     frequent_mAP=_mean_std([r['frequent_mAP']
                                             for r in mine]),
                     train_s=float(np.mean([r['train_s'] for r in mine])),
                     train_cpu_s=float(np.mean([r.get('train_cpu_s', np.nan)
                                                for r in mine])))
        if all('recovery' in r for r in mine):
            entry['key_error'] = _mean_std(
                [r['recovery']['mean_error'] for r in mine])
            entry['key_corr'] = _mean_std(
                [r['recovery']['corr'] for r in mine])
        summary[variant] = entry
    return summary


def _mean_std(values) -> dict:
    values = np.asarray(values, dtype=float)
    return dict(mean=float(values.mean()),
                std=float(values.std(ddof=1)) if len(values) > 1 else 0.0)


def format_runs(runs: List[dict]) -> str:
    head = f'{"variant":<12}{"seed":>5}' + ''.join(
        f'{k:>9}' for k in METRIC_KEYS) + \
        f'{"freq mAP":>9}{"train s":>9}{"key err":>9}'
    lines = [head, '-' * len(head)]
    for r in runs:
        err = r['recovery']['mean_error'] if 'recovery' in r else None
        lines.append(f'{r["variant"]:<12}{r["seed"]:>5}' + ''.join(
            f'{100 * r["metrics"][k]:>9.2f}' for k in METRIC_KEYS) +
            f'{100 * r["frequent_mAP"]:>9.2f}{r["train_s"]:>9.0f}' +
            (f'{err:>9.3f}' if err is not None else f'{"-":>9}'))
    return '\n'.join(lines)


def format_summary(summary: Dict[str, dict]) -> str:
    head = f'{"variant":<12}' + ''.join(f'{k:>15}' for k in METRIC_KEYS) + \
        f'{"freq mAP":>15}{"key err":>16}{"key corr":>16}'
    lines = [head, '-' * len(head)]
    for name, s in summary.items():
        cells = [f'{100 * s["mean"][k]:.2f} +- {100 * s["std"][k]:.2f}'
                 for k in METRIC_KEYS]
        freq = s['frequent_mAP']
        cells.append(f'{100 * freq["mean"]:.2f} +- {100 * freq["std"]:.2f}')
        for key in ('key_error', 'key_corr'):
            value = s.get(key)
            cells.append(f'{value["mean"]:.3f} +- {value["std"]:.3f}'
                         if value else '-')
        lines.append(f'{name:<12}' + ''.join(f'{c:>15}' for c in cells[:-2])
                     + ''.join(f'{c:>16}' for c in cells[-2:]))
    return '\n'.join(lines)


def format_recovery(runs: List[dict], classes: Optional[List[str]]) -> str:
    """Per class: true key position, learned one per run (variant/seed)."""
    with_rec = [r for r in runs if 'recovery' in r]
    if not with_rec:
        return ''
    ref = with_rec[0]['recovery']
    cols = [f'{r["variant"]}/{r["seed"]}' for r in with_rec]
    head = f'{"class":<18}{"true":>6}' + ''.join(f'{c:>14}' for c in cols)
    lines = [head, '-' * len(head)]
    for i, cls in enumerate(ref['classes']):
        name = classes[cls] if classes and cls < len(classes) else str(cls)
        cells = []
        for r in with_rec:
            rec = r['recovery']
            j = rec['classes'].index(cls)
            cells.append(f'{rec["learned"][j]:.2f} ({rec["error"][j]:.2f})')
        lines.append(f'{cls:>3} {name[:14]:<14}{ref["true"][i]:>6.2f}' +
                     ''.join(f'{c:>14}' for c in cells))
    lines.append(f'{"mean error":<24}' + ''.join(
        f'{r["recovery"]["mean_error"]:>14.3f}' for r in with_rec))
    lines.append(f'{"(centred profile)":<24}' + ''.join(
        f'{r["recovery"]["centre_error"]:>14.3f}' for r in with_rec))
    lines.append(f'{"within 0.1":<24}' + ''.join(
        f'{r["recovery"]["within_0_1"]:>11d}/{len(ref["classes"]):<2d}'
        for r in with_rec))
    lines.append(f'{"corr(learned, true)":<24}' + ''.join(
        f'{r["recovery"]["corr"]:>14.2f}' for r in with_rec))
    lines.append(f'{"moved to the true side":<24}' + ''.join(
        f'{r["recovery"]["same_side"]:>14.2f}' for r in with_rec))
    if 'from_centre' in ref:
        lines.append(f'{"|learned - 0.5|":<24}' + ''.join(
            f'{r["recovery"]["from_centre"]:>14.3f}' for r in with_rec))
    return '\n'.join(lines)


# --------------------------------------------------------------------- data
def prepare_data(args) -> dict:
    """Generate the data if needed; paths, true key positions, labels."""
    data = dict(DATASETS[args.data])
    if data['generator'] is None:
        from asl_mmaction.datasets.demo_data import (CLASS_NAMES,
                                                     generate_demo_data)
        root = osp.join(args.data_dir, 'demo')
        generate_demo_data(root)
        data.update(data_root=root, classes=list(CLASS_NAMES),
                    true_key=lambda k: np.full(k, DEMO_KEY_POSITION),
                    description=f'demo clips, {root}')
        return data
    info = semi_real_data.generate_semi_real_data(
        osp.join(args.data_dir, 'semi_real'), variant=data['generator'],
        seed=args.data_seed, max_videos=args.max_videos)
    keys = np.asarray(info['meta']['key_positions'])
    data.update(data_root=info['data_root'], classes=info['meta']['classes'],
                true_key=lambda k: keys[:k],
                description=semi_real_data.describe(info))
    return data


def repo_state(repo: str) -> str:
    try:
        rev = subprocess.run(['git', '-C', repo, 'rev-parse', '--short',
                              'HEAD'], capture_output=True, text=True,
                             check=True).stdout.strip()
        dirty = subprocess.run(['git', '-C', repo, 'status', '--porcelain',
                                '--untracked-files=no'],
                               capture_output=True, text=True).stdout.strip()
        return rev + (' (modified)' if dirty else '')
    except (OSError, subprocess.CalledProcessError):
        return 'unknown'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='Budget defaults on semi_real / flat: '
        f'{SEMI_REAL_BUDGET}; on demo: the demo config\'s own.')
    parser.add_argument('--data', default='semi_real', choices=DATASETS)
    parser.add_argument('--variants', default='af,full',
                        help=f'comma-separated, from {list(VARIANTS)}')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--epochs', type=int, default=None)
    parser.add_argument('--warmup-epochs', type=int, default=None)
    parser.add_argument('--lr', type=float, default=None)
    parser.add_argument('--ema-momentum', type=float, default=None,
                        help='EMAHook momentum (1 - decay per iteration)')
    parser.add_argument('--max-seq-len', type=int, default=None,
                        help='training crop length (default: the config)')
    parser.add_argument('--min-instances', type=int, default=20,
                        help='classes with at least this many training '
                        'segments enter the recovery error')
    parser.add_argument('--max-plot-classes', type=int, default=12)
    parser.add_argument('--no-plots', dest='plots', action='store_false')
    parser.add_argument('--data-seed', type=int, default=0,
                        help='seed of the generated data (not of training)')
    parser.add_argument('--max-videos', type=int, default=None,
                        help='semi-real: only the N shortest videos')
    parser.add_argument('--train-indices', type=int, default=None,
                        help='train on the first N training videos only')
    parser.add_argument('--repo', default=REPO,
                        help='checkout whose configs and tools are used '
                        '(its asl_mmaction must be the one imported)')
    parser.add_argument('--data-dir', default=osp.join(REPO, 'data'),
                        help='generated data go to <data-dir>/semi_real/ '
                        'and <data-dir>/demo/')
    parser.add_argument('--work-dir', default=None,
                        help='default: work_dirs/bench_sensitivity/<data>')
    parser.add_argument('--json', default=None,
                        help='results file (default: bench/results/'
                        'sensitivity_<data>.json; "" to skip)')
    parser.add_argument('--threads', type=int, default=None,
                        help='torch.set_num_threads')
    parser.add_argument('--quick', action='store_true',
                        help='smoke test: 6 short videos, 1 epoch, 1 seed')
    parser.add_argument('--verbose', action='store_true')
    args = parser.parse_args(argv)
    args.variants = [v.strip() for v in args.variants.split(',') if v]
    bad = [v for v in args.variants if v not in VARIANTS]
    if bad:
        parser.error(f'unknown variants {bad}; choose from {list(VARIANTS)}')
    if args.data != 'demo':
        for key, value in SEMI_REAL_BUDGET.items():
            if getattr(args, key) is None:
                setattr(args, key, value)
    if args.epochs is not None and args.warmup_epochs is None:
        args.warmup_epochs = 0
    if args.quick:
        args.seeds = args.seeds[:1]
        args.epochs, args.warmup_epochs = 1, 0
        args.max_plot_classes = 2
        if args.data == 'demo':
            args.train_indices = args.train_indices or 4
        else:
            args.max_videos = args.max_videos or 6
            args.min_instances = min(args.min_instances, 1)
    if args.work_dir is None:
        args.work_dir = osp.join(REPO, 'work_dirs', 'bench_sensitivity',
                                 args.data + ('_quick' if args.quick else ''))
    if args.json is None:
        args.json = osp.join(REPO, 'bench', 'results',
                             f'sensitivity_{args.data}'
                             f'{"_quick" if args.quick else ""}.json')
    args.budget_printed = False
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    import asl_mmaction
    package = osp.dirname(osp.dirname(osp.abspath(asl_mmaction.__file__)))
    if osp.realpath(package) != osp.realpath(args.repo):
        raise SystemExit(f'--repo {args.repo} but asl_mmaction is imported '
                         f'from {package}; run the bench file inside that '
                         'checkout (or put it first on PYTHONPATH)')
    data = prepare_data(args)
    print(f'code: {args.repo} at {repo_state(args.repo)}\n'
          f'data: {data["description"]}\n'
          f'variants {args.variants} x seeds {args.seeds}', flush=True)
    runs = []
    for seed in args.seeds:
        for variant in args.variants:
            runs.append(run_one(args, data, variant, seed))
    summary = summarise(runs)
    print('\nmAP (%) of every run (validation videos, EMA weights of the '
          'last checkpoint); freq mAP = mAP over the classes with >= '
          f'{args.min_instances} training segments; train s = training '
          'time of the run; key err = mean |learned - true key position| '
          'over those classes\n' +
          format_runs(runs))
    print(f'\nmean +- sample std over seeds {args.seeds}\n' +
          format_summary(summary))
    rec = format_recovery(runs, data['classes'])
    if rec:
        print('\nlearned cls key position per class with >= '
              f'{args.min_instances} training segments (|error|)\n' + rec)
    result = dict(data=args.data, data_description=data['description'],
                  code=repo_state(args.repo), seeds=args.seeds,
                  budget=dict(epochs=args.epochs,
                              warmup_epochs=args.warmup_epochs, lr=args.lr,
                              ema_momentum=args.ema_momentum),
                  runs=runs, summary=summary)
    if args.json:
        from asl_mmaction.evaluation.functional import atomic_write_json
        atomic_write_json(result, args.json)
        print(f'\nresults: {args.json}')
    return result


if __name__ == '__main__':
    main()
