"""Training step (forward + backward + optimizer) at the EPIC config size,
against today's reference path in the same process.

The model is ``configs/actionformer/actionformer_epic_kitchens_100_verb.py``
(2304-d SlowFast input, 512-d pyramid of 6 levels, 97 classes; ASL's
plug-ins with ``--asl``) with trained-like norms, batch 2. Batches are
drawn from EPIC-Kitchens-100's real video lengths
(``../shared/data/epic_kitchens_100/EPIC_100_video_info.csv``, durations at
1.875 features per second), cut as the training crop does (longer than
2304 steps: a 2304-step window; shorter: 90-100 % of the video).

* reference: every batch padded to ``max_seq_len`` (ActionFormer's rule,
  ``pad_train_to_max=True``);
* default: padded to the batch's longest video, which the padding-invariant
  model allows without changing a loss (checked for every batch);
* options: ``--compile`` (``torch.compile`` of the model, what MMEngine's
  ``compile=True`` does) and ``--amp`` (bfloat16 autocast on the CPU), each
  on top of the default.

Prints the mean step time of each path, the ratio to the reference and the
largest relative loss difference. ``--full-length`` uses two 2304-step
videos instead (no padding to save: the ratio shows what the rest of the
step costs).

Run: ``python bench/bench_train_step.py [--steps 4] [--threads 1]``
"""
import argparse
import csv
import math
import os.path as osp
import sys
import time

import numpy as np
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

import asl_mmaction  # noqa: F401  (registers the components)
from asl_mmaction.structures import TADDataSample
from mmaction.registry import MODELS

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, osp.join(REPO, 'tests'))
from oracles import randomize_norms  # noqa: E402

VIDEO_INFO = osp.join(osp.dirname(REPO), 'shared', 'data',
                      'epic_kitchens_100', 'EPIC_100_video_info.csv')
CONFIGS = {
    False: 'configs/actionformer/actionformer_epic_kitchens_100_verb.py',
    True: 'configs/asl/asl_epic_kitchens_100_verb.py'}
STEPS_PER_SECOND = 30.0 / 16.0
MAX_SEQ_LEN, CHANNELS, NUM_CLASSES = 2304, 2304, 97


#: Losses that draw random background points over the padded length (the
#: contrastive loss, the fitted sensitivity's probe): their values change
#: with the padding by sampling, not by a leak.
RANDOM_OVER_PADDING = ('loss_contrast', 'loss_sens')

def epic_lengths() -> np.ndarray:
    """Feature lengths of every EPIC-Kitchens-100 video (steps)."""
    if not osp.exists(VIDEO_INFO):
        raise SystemExit(f'{VIDEO_INFO} not found: the bench draws real '
                         'EPIC video lengths from it (or use --full-length)')
    with open(VIDEO_INFO) as f:
        return np.array([float(r['duration']) * STEPS_PER_SECOND
                         for r in csv.DictReader(f)])


def cropped_length(length: float, rng: np.random.Generator) -> int:
    """The length the training crop leaves (RandomTemporalCrop with the
    EPIC config's crop ratio 0.9-1.0)."""
    if length > MAX_SEQ_LEN:
        return MAX_SEQ_LEN
    return max(int(round(length * rng.uniform(0.9, 1.0))), 32)


def make_batch(lengths, rng: np.random.Generator):
    inputs, samples = [], []
    for i, length in enumerate(lengths):
        sample = TADDataSample(metainfo=dict(video_name=f'bench_{i}'))
        num = max(int(length / 40), 1)  # EPIC: about one action per 20 s
        starts = rng.uniform(0, length - 4, num)
        ends = np.minimum(starts + rng.uniform(2, 30, num), length)
        sample.gt_instances = InstanceData(
            segments_in_steps=torch.tensor(np.stack([starts, ends], 1),
                                  dtype=torch.float32),
            labels=torch.tensor(rng.integers(0, NUM_CLASSES - 10, num)))
        samples.append(sample)
        inputs.append(torch.from_numpy(
            rng.standard_normal((CHANNELS, length)).astype(np.float32)))
    return dict(inputs=inputs, data_samples=samples)


def build(asl: bool, fixed: bool, seed: int):
    cfg = Config.fromfile(osp.join(REPO, CONFIGS[asl]))
    cfg.model.data_preprocessor.pad_train_to_max = fixed
    # deterministic steps: no random drop, so both paths see one network
    cfg.model.backbone.path_drop = 0.0
    torch.manual_seed(seed)
    model = randomize_norms(MODELS.build(cfg.model), seed)
    model.train()
    return model, build_optim_wrapper(model, cfg.optim_wrapper)


def step(model, wrapper, batch, amp: bool):
    data = model.data_preprocessor(batch, True)
    with torch.autocast('cpu', dtype=torch.bfloat16, enabled=amp):
        losses = model(**data, mode='loss')
    wrapper.update_params(sum(losses.values()))
    return {k: float(v.detach()) for k, v in losses.items()}, \
        data['inputs'].shape[-1]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--steps', type=int, default=4)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--asl', action='store_true',
                        help='the ASL config instead of its ActionFormer twin')
    parser.add_argument('--full-length', action='store_true')
    parser.add_argument('--compile', action='store_true')
    parser.add_argument('--amp', action='store_true')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    init_default_scope('mmaction')
    rng = np.random.default_rng(args.seed)
    if args.full_length:
        lengths = [[MAX_SEQ_LEN, MAX_SEQ_LEN]] * args.steps
    else:
        pool = epic_lengths()
        lengths = [[cropped_length(x, rng) for x in rng.choice(pool, 2)]
                   for _ in range(args.steps)]
    batches = [make_batch(pair, np.random.default_rng(args.seed + i))
               for i, pair in enumerate(lengths)]

    paths = {'reference (pad to 2304)': (True, False, False),
             'default (pad to longest)': (False, False, False)}
    if args.compile:
        paths['default + torch.compile'] = (False, True, False)
    if args.amp:
        paths['default + bf16 autocast'] = (False, False, True)
    runs = {}
    for name, (fixed, compiled, amp) in paths.items():
        model, wrapper = build(args.asl, fixed, args.seed)
        if compiled:
            model = torch.compile(model)
        step(model, wrapper, batches[0], amp)  # warm-up (and compile)
        model, wrapper = build(args.asl, fixed, args.seed)
        if compiled:
            model = torch.compile(model)
        times, losses, padded = [], [], []
        for batch in batches:
            start = time.perf_counter()
            out, length = step(model, wrapper, batch, amp)
            times.append(time.perf_counter() - start)
            losses.append(out)
            padded.append(length)
        runs[name] = (times, losses, padded)

    ref_times, ref_losses, _ = next(iter(runs.values()))
    print(f'{"ASL" if args.asl else "ActionFormer twin"} at EPIC size, batch '
          f'2, {args.steps} steps, {args.threads} thread(s); video lengths '
          f'{lengths}')
    print(f'{"path":<28}{"s / step":>10}{"x ref":>8}{"mean T":>8}'
          f'{"max rel loss diff":>20}')
    # with a random loss, the weights differ from the first update on, so
    # only the first step's other losses can be compared
    compared = 1 if any(k in RANDOM_OVER_PADDING for k in ref_losses[0]) \
        else len(ref_losses)
    for name, (times, losses, padded) in runs.items():
        diff = max(abs(a[k] - b[k]) / max(abs(b[k]), 1e-12)
                   for a, b in zip(losses[:compared], ref_losses[:compared])
                   for k in b if k not in RANDOM_OVER_PADDING)
        print(f'{name:<28}{np.mean(times):>10.2f}'
              f'{np.mean(ref_times) / np.mean(times):>8.2f}'
              f'{np.mean(padded):>8.0f}{diff:>20.2e}')
    print(f'(losses compared over {compared} step(s); '
          f'{" and ".join(RANDOM_OVER_PADDING)} sample background points at '
          'random over the padded length: left out, and with them the '
          'weights differ after the first update)')


if __name__ == '__main__':
    main()
