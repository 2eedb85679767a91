"""State-dict names of ActionFormer's and the ASL authors' released code,
mapped onto this project's detector (``ASLDetector`` with
``ConvTransformerBackbone`` or ``ConvBackbone``, ``IdentityPyramidNeck`` or
``FPN1d`` and ``ASLHead``), so their released models can be evaluated here.

Both codes save ``{'state_dict', 'state_dict_ema', ...}`` from a model
wrapped in ``nn.DataParallel`` (keys start with ``module.``); ActionFormer
evaluates the EMA weights. The ASL authors' model carries three extra
modules that their inference never calls (``backbone_m``, ``neck_m``,
``seg_conv``): they are dropped. Their class-level Gaussians measure
``centre - t`` where this project measures ``t - centre``, so every mu is
negated and their "left" Gaussian (mu -0.5 at init) becomes our ``end`` one,
their "right" our ``start``; sigmas are copied (``reference`` mode keeps the
raw sigma).
"""
import re
from typing import Dict, List, Tuple

import torch
from torch import Tensor

SOURCES = ('actionformer', 'asl_authors')

#: (pattern, replacement) on the names of both codes, first match wins.
KEY_RULES = (
    (r'^backbone\.proj\.(\d+)\.conv\.', r'backbone.embed.proj.projs.\1.conv.'),
    (r'^backbone\.embd\.(\d+)\.conv\.',
     r'backbone.embed.tower.convs.\1.conv.'),
    (r'^backbone\.embd_norm\.(\d+)\.', r'backbone.embed.tower.norms.\1.'),
    (r'^backbone\.(stem|branch)\.(\d+)\.ln1\.', r'backbone.\1.\2.norm1.'),
    (r'^backbone\.(stem|branch)\.(\d+)\.ln2\.', r'backbone.\1.\2.norm2.'),
    (r'^backbone\.(stem|branch)\.(\d+)\.downsample\.conv\.',
     r'backbone.\1.\2.shortcut.conv.'),
    (r'^backbone\.(stem|branch)\.(\d+)\.'
     r'(attn\.(query|key|value)_(conv\.conv|norm)\.|'
     r'attn\.(query|key|value|proj)\.|mlp\.[03]\.|'
     r'drop_path_(attn|mlp)\.scale$|conv[12]\.conv\.)',
     r'backbone.\1.\2.\3'),
    (r'^neck\.fpn_norms\.(\d+)\.', r'neck.norms.\1.'),
    (r'^neck\.(lateral_convs|fpn_convs)\.(\d+)\.conv\.', r'neck.\1.\2.conv.'),
    (r'^cls_head\.head\.(\d+)\.conv\.', r'head.cls_tower.convs.\1.conv.'),
    (r'^cls_head\.norm\.(\d+)\.', r'head.cls_tower.norms.\1.'),
    (r'^cls_head\.cls_head\.conv\.', r'head.conv_cls.conv.'),
    (r'^reg_head\.head\.(\d+)\.conv\.', r'head.reg_tower.convs.\1.conv.'),
    (r'^reg_head\.norm\.(\d+)\.', r'head.reg_tower.norms.\1.'),
    (r'^reg_head\.scale\.(\d+)\.scale$', r'head.scales.\1.scale'),
    (r'^reg_head\.offset_head\.conv\.', r'head.conv_reg.conv.'),
)

#: Modules of the ASL authors' model that their inference does not use.
UNUSED_BY_ASL_AUTHORS = ('backbone_m.', 'neck_m.', 'seg_conv.')

#: Their Gaussians -> column of our ``[K, 3]`` (cls, start, end) tables.
ASL_GAUSSIANS = {'mu': ('mu', 0), 'sigma': ('sigma', 0),
                 'mu_reg_right': ('mu', 1), 'sigma_reg_right': ('sigma', 1),
                 'mu_reg_left': ('mu', 2), 'sigma_reg_left': ('sigma', 2)}


def pick_state_dict(checkpoint: dict, use_ema: bool = True) -> dict:
    """The weights a released checkpoint is evaluated with: ``state_dict_ema``
    (what ActionFormer's ``eval.py`` loads) or ``state_dict``."""
    key = 'state_dict_ema' if use_ema else 'state_dict'
    if key not in checkpoint:
        if 'state_dict' in checkpoint or 'state_dict_ema' in checkpoint:
            raise KeyError(f'checkpoint has no {key!r} (it has '
                           f'{sorted(k for k in checkpoint if "state" in k)})'
                           f'; pass use_ema={not use_ema}')
        return checkpoint  # a bare state dict
    return checkpoint[key]


def convert_state_dict(state: Dict[str, Tensor], source: str
                       ) -> Tuple[Dict[str, Tensor], List[str]]:
    """Rename ``state`` (ActionFormer / ASL-authors names) to this
    project's.

    Args:
        state (dict): Their state dict, with or without ``module.``.
        source (str): ``'actionformer'`` or ``'asl_authors'``.

    Returns:
        tuple: the converted state dict and the dropped keys (the ASL
        authors' unused modules).

    Raises:
        KeyError: naming every key no rule maps (e.g. relative position
            encodings or deformable convs, which this project does not
            implement).
    """
    if source not in SOURCES:
        raise ValueError(f'unknown source {source!r}: use one of {SOURCES}')
    out, dropped, unknown = {}, [], []
    gaussians = {}
    for key, value in state.items():
        name = key[len('module.'):] if key.startswith('module.') else key
        if source == 'asl_authors' and name.startswith(UNUSED_BY_ASL_AUTHORS):
            dropped.append(key)
            continue
        if source == 'asl_authors' and name in ASL_GAUSSIANS:
            gaussians[name] = value
            continue
        for pattern, repl in KEY_RULES:
            new, hits = re.subn(pattern, repl, name)
            if hits:
                out[new] = value
                break
        else:
            unknown.append(key)
    if unknown:
        raise KeyError(f'{len(unknown)} {source} keys have no counterpart '
                       f'here: {unknown[:10]}')
    if gaussians:
        out.update(_class_sensitivity(gaussians))
    return out, dropped


def _class_sensitivity(gaussians: Dict[str, Tensor]) -> Dict[str, Tensor]:
    """The authors' six ``[K, 1]`` Gaussian parameters -> our ``[K, 3]``
    ``mu`` / ``sigma`` (mirrored positions: mu negated)."""
    missing = set(ASL_GAUSSIANS) - set(gaussians)
    if missing:
        raise KeyError(f'ASL checkpoint lacks the Gaussians {sorted(missing)}')
    num_classes = gaussians['mu'].shape[0]
    tables = {'mu': torch.zeros(num_classes, 3),
              'sigma': torch.zeros(num_classes, 3)}
    for name, (table, column) in ASL_GAUSSIANS.items():
        value = gaussians[name].reshape(num_classes).float()
        tables[table][:, column] = -value if table == 'mu' else value
    return {f'head.class_sensitivity.{k}': v for k, v in tables.items()}
