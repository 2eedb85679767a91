"""Convert a released ActionFormer or ASL-authors checkpoint to this
project's detector, so ``tools/test.py`` can evaluate it.

    python tools/convert/peer_checkpoint.py SRC.pth.tar DST.pth \\
        --source actionformer --config configs/actionformer/actionformer_epic_kitchens_100_verb.py
    python tools/test.py CONFIG DST.pth

``--config`` (recommended) builds the detector and loads the converted
weights strictly, so a checkpoint of another architecture fails here with
the names that differ rather than at test time. Only the training-only ASL
plug-ins (class / instance sensitivity, contrastive and video losses) may
lack weights: inference never runs them. The EMA weights are taken
by default (what both codes evaluate); ``--no-ema`` takes the raw ones.
The original is loaded with ``weights_only=False``: convert only files you
trust.
"""
import argparse
import os
import os.path as osp
import sys
import tempfile

import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))))
from asl_mmaction.models.peer_checkpoints import (  # noqa: E402
    SOURCES, convert_state_dict, pick_state_dict)
from asl_mmaction.utils.cli import (  # noqa: E402
    ToolError, add_debug_arg, run_main)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='ActionFormer / ASL-authors checkpoint')
    parser.add_argument('dst', help='converted checkpoint to write')
    parser.add_argument('--source', choices=SOURCES, default='actionformer')
    parser.add_argument('--config', help='check the result against the '
                        'detector of this config (strict load)')
    parser.add_argument('--no-ema', action='store_true',
                        help='take the raw weights instead of the EMA ones')
    add_debug_arg(parser)
    return parser.parse_args(argv)


def check_against_config(state: dict, config: str) -> None:
    """Build the config's detector and load ``state`` strictly."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmaction.registry import MODELS
    import asl_mmaction  # noqa: F401  (registers the components)
    init_default_scope('mmaction')
    model = MODELS.build(Config.fromfile(config).model)
    expected = model.state_dict()
    # buffers this project keeps and the peers do not (loss normaliser)
    for key, value in expected.items():
        if key not in state and key.endswith('loss_normalizer.value'):
            state[key] = value
    training_only = ('head.class_sensitivity.', 'head.instance_sensitivity.',
                     'head.contrastive_loss.', 'head.video_loss.')
    for key, value in expected.items():
        if key not in state and key.startswith(training_only):
            state[key] = value  # never used at inference
    missing = sorted(set(expected) - set(state))
    extra = sorted(set(state) - set(expected))
    shapes = sorted(k for k in set(state) & set(expected)
                    if state[k].shape != expected[k].shape)
    if missing or extra or shapes:
        raise ToolError(
            f'the converted weights do not fit {config}:\n'
            f'  missing here: {missing[:10]}\n  not in the model: '
            f'{extra[:10]}\n  other shapes: '
            f'{[(k, tuple(state[k].shape), tuple(expected[k].shape)) for k in shapes[:10]]}')
    model.load_state_dict(state, strict=True)


def main(argv=None) -> int:
    args = parse_args(argv)
    if not osp.isfile(args.src):
        raise ToolError(f'{args.src}: no such checkpoint file')
    checkpoint = torch.load(args.src, map_location='cpu', weights_only=False)
    try:
        state, dropped = convert_state_dict(
            pick_state_dict(checkpoint, use_ema=not args.no_ema),
            args.source)
    except KeyError as err:
        raise ToolError(f'{args.src}: {err.args[0]}') from err
    if args.config:
        check_against_config(state, args.config)
    out = dict(meta=dict(converted_from=osp.basename(args.src),
                         source=args.source, ema=not args.no_ema),
               state_dict=state)
    folder = osp.dirname(osp.abspath(args.dst))
    os.makedirs(folder, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=folder, suffix='.tmp',
                                     delete=False) as tmp:
        torch.save(out, tmp.name)
    os.replace(tmp.name, args.dst)
    print(f'{len(state)} tensors written to {args.dst}'
          + (f'; dropped {len(dropped)} keys of modules the {args.source} '
             f'inference does not use' if dropped else ''))
    return 0


if __name__ == '__main__':
    sys.exit(run_main(main))
