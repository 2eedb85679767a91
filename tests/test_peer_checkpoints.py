"""Converters of ActionFormer's and the ASL authors' checkpoints, on state
dicts built here from their published module names (no downloads)."""
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmaction.registry import MODELS

from asl_mmaction.models.peer_checkpoints import convert_state_dict
from run_helpers import REPO, tool_env

K = 5


def detector(backbone=None, **head):
    cfg = Config.fromfile(str(REPO / 'configs/actionformer/'
                              'actionformer_demo.py'))
    cfg.model.head.update(num_classes=K, **head)
    if backbone:
        cfg.model.backbone.update(backbone)
    return MODELS.build(cfg.model), cfg


def actionformer_names(embed_convs=2, stem=2, branch=3, head_convs=2,
                       streams=0, drop_path=False, fpn=False):
    """Every parameter name of ActionFormer's ``LocPointTransformer``
    (``nn.DataParallel``-wrapped) for that architecture, written from its
    modules: ConvTransformerBackbone (proj, embd, embd_norm, stem, branch
    of TransformerBlock: ln1, ln2, attn = LocalMaskedMHCA, mlp,
    drop_path_*), the neck's fpn_norms and the two heads."""
    names = []
    for j in range(streams):
        names += [f'backbone.proj.{j}.conv.weight',
                  f'backbone.proj.{j}.conv.bias']
    for i in range(embed_convs):
        names += [f'backbone.embd.{i}.conv.weight',
                  f'backbone.embd_norm.{i}.weight',
                  f'backbone.embd_norm.{i}.bias']
    blocks = [f'stem.{i}' for i in range(stem)] + \
        [f'branch.{i}' for i in range(branch)]
    for blk in blocks:
        pre = f'backbone.{blk}'
        names += [f'{pre}.ln1.weight', f'{pre}.ln1.bias',
                  f'{pre}.ln2.weight', f'{pre}.ln2.bias']
        for qkv in ('query', 'key', 'value'):
            names += [f'{pre}.attn.{qkv}_conv.conv.weight',
                      f'{pre}.attn.{qkv}_norm.weight',
                      f'{pre}.attn.{qkv}_norm.bias',
                      f'{pre}.attn.{qkv}.weight', f'{pre}.attn.{qkv}.bias']
        names += [f'{pre}.attn.proj.weight', f'{pre}.attn.proj.bias',
                  f'{pre}.mlp.0.weight', f'{pre}.mlp.0.bias',
                  f'{pre}.mlp.3.weight', f'{pre}.mlp.3.bias']
        if drop_path:
            names += [f'{pre}.drop_path_attn.scale',
                      f'{pre}.drop_path_mlp.scale']
    levels = branch + 1
    for level in range(levels):
        names += [f'neck.fpn_norms.{level}.weight',
                  f'neck.fpn_norms.{level}.bias']
        if fpn:
            names += [f'neck.lateral_convs.{level}.conv.weight',
                      f'neck.fpn_convs.{level}.conv.weight']
    for head in ('cls_head', 'reg_head'):
        for i in range(head_convs):
            names += [f'{head}.head.{i}.conv.weight',
                      f'{head}.norm.{i}.weight', f'{head}.norm.{i}.bias']
    names += ['cls_head.cls_head.conv.weight', 'cls_head.cls_head.conv.bias',
              'reg_head.offset_head.conv.weight',
              'reg_head.offset_head.conv.bias']
    names += [f'reg_head.scale.{level}.scale' for level in range(levels)]
    return ['module.' + n for n in names]


def their_state(model, names, source='actionformer'):
    """Tensors under their names, shaped as our model's counterpart and
    each holding its own index (so a misplaced tensor is visible)."""
    ours = model.state_dict()
    state = {}
    renamed, _ = convert_state_dict({n: torch.zeros(1) for n in names},
                                    source)
    for i, (name, our_name) in enumerate(zip(names, renamed)):
        state[name] = torch.full(ours[our_name].shape, float(i))
    return state


def test_actionformer_names_map_one_to_one_onto_the_detector():
    model, _ = detector()
    names = actionformer_names()
    converted, dropped = convert_state_dict(their_state(model, names),
                                            'actionformer')
    assert not dropped and len(converted) == len(names)
    expected = {k for k in model.state_dict()
                if not k.endswith('loss_normalizer.value')}
    assert set(converted) == expected
    model.load_state_dict(converted, strict=False)
    # a few landmarks: each tensor sits where its name says
    index = {n[len('module.'):]: i for i, n in enumerate(names)}
    sd = model.state_dict()
    for theirs, ours in [
            ('cls_head.cls_head.conv.bias', 'head.conv_cls.conv.bias'),
            ('reg_head.scale.2.scale', 'head.scales.2.scale'),
            ('backbone.branch.1.ln2.weight', 'backbone.branch.1.norm2.weight'),
            ('backbone.embd_norm.1.bias', 'backbone.embed.tower.norms.1.bias'),
            ('neck.fpn_norms.3.weight', 'neck.norms.3.weight')]:
        assert (sd[ours] == index[theirs]).all(), (theirs, ours)


def test_multi_stream_and_fpn_names():
    model, _ = detector(backbone=dict(in_channels=[20, 12],
                                      stream_channels=[32, 32]))
    names = actionformer_names(streams=2)
    converted, _ = convert_state_dict(their_state(model, names),
                                      'actionformer')
    assert {'backbone.embed.proj.projs.1.conv.bias'} <= set(converted)
    cfg = Config.fromfile(str(REPO / 'configs/actionformer/'
                              'actionformer_demo.py'))
    cfg.model.neck = dict(type='FPN1d', in_channels=[64] * 4,
                          out_channels=64)
    fpn_model = MODELS.build(cfg.model)
    names = actionformer_names(fpn=True)
    converted, _ = convert_state_dict(
        {n: torch.zeros(1) for n in names}, 'actionformer')
    assert set(converted) == {k for k in fpn_model.state_dict()
                              if not k.endswith('loss_normalizer.value')}


def test_unknown_names_are_refused():
    with pytest.raises(KeyError, match='rel_pe'):
        convert_state_dict({'module.backbone.stem.0.attn.rel_pe':
                            torch.zeros(1)}, 'actionformer')


def test_asl_authors_gaussians_are_mirrored_and_unused_modules_dropped():
    mu = torch.tensor([[0.1], [0.2], [0.3], [0.0], [0.0]])
    state = {'module.mu': mu, 'module.sigma': mu + 1,
             'module.mu_reg_left': mu - 0.5, 'module.sigma_reg_left': mu + 2,
             'module.mu_reg_right': mu + 0.5,
             'module.sigma_reg_right': mu + 3,
             'module.backbone_m.embd.0.conv.weight': torch.zeros(1),
             'module.seg_conv.cls_head.conv.bias': torch.zeros(1),
             'module.cls_head.cls_head.conv.bias': torch.zeros(K)}
    converted, dropped = convert_state_dict(state, 'asl_authors')
    assert sorted(dropped) == ['module.backbone_m.embd.0.conv.weight',
                               'module.seg_conv.cls_head.conv.bias']
    table = converted['head.class_sensitivity.mu']
    # their "left" (init -0.5 in centre - t) is our end (+0.5 in t - centre)
    assert torch.allclose(table[:, 0], -mu[:, 0])
    assert torch.allclose(table[:, 1], -(mu[:, 0] + 0.5))
    assert torch.allclose(table[:, 2], -(mu[:, 0] - 0.5))
    assert torch.allclose(converted['head.class_sensitivity.sigma'][:, 2],
                          mu[:, 0] + 2)
    # the same Gaussian values at mirrored positions: their weight of a
    # point at (centre - t) = d equals ours at (t - centre) = -d
    from asl_mmaction.models.sensitivity.class_sensitivity import gaussian
    d = torch.tensor(0.3)
    theirs = gaussian(d, mu[2, 0] - 0.5, mu[2, 0] + 2)
    ours = gaussian(-d, table[2, 2],
                    converted['head.class_sensitivity.sigma'][2, 2])
    assert torch.allclose(theirs, ours)


def test_tool_converts_a_checkpoint_for_the_test_tool(tmp_path):
    model, _ = detector()
    names = actionformer_names()
    state = their_state(model, names)
    src = tmp_path / 'epoch_010.pth.tar'
    torch.save(dict(epoch=10, state_dict={k: v * 0 for k, v in state.items()},
                    state_dict_ema=state), src)
    dst = tmp_path / 'converted.pth'
    config = tmp_path / 'cfg.py'
    config.write_text(
        f"_base_ = [{str(REPO / 'configs/actionformer')!r}"
        f" + '/actionformer_demo.py']\n"
        f"model = dict(head=dict(num_classes={K}))\n")
    out = subprocess.run(
        [sys.executable, str(REPO / 'tools/convert/peer_checkpoint.py'),
         str(src), str(dst), '--config', str(config)],
        capture_output=True, text=True, env=tool_env())
    assert out.returncode == 0, out.stderr[-2000:]
    saved = torch.load(dst, weights_only=True)  # plain tensors only
    assert saved['meta']['ema'] is True
    # the EMA weights were taken
    assert (saved['state_dict']['head.conv_cls.conv.bias'] != 0).any()
    bad = tmp_path / 'bad.pth.tar'
    torch.save(dict(state_dict_ema={'module.neck.odd.weight':
                                    torch.zeros(1)}), bad)
    out = subprocess.run(
        [sys.executable, str(REPO / 'tools/convert/peer_checkpoint.py'),
         str(bad), str(tmp_path / 'x.pth')],
        capture_output=True, text=True, env=tool_env())
    assert out.returncode != 0 and 'no counterpart' in out.stderr
