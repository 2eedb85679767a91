"""ActionFormer's weight-decay rule on the real EPIC config: decay on the
weights of convolutions and linear layers, on nothing else."""
import torch.nn as nn
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmaction.registry import MODELS

EPIC = 'configs/asl/asl_epic_kitchens_100_verb.py'


def named_groups(config=EPIC):
    cfg = Config.fromfile(config)
    model = MODELS.build(cfg.model)
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    names = {id(p): n for n, p in model.named_parameters()}
    decay = {}
    lr = {}
    for group in wrapper.optimizer.param_groups:
        for p in group['params']:
            decay[names[id(p)]] = group['weight_decay']
            lr[names[id(p)]] = group['lr']
    return model, decay, lr


def test_epic_config_decays_exactly_conv_and_linear_weights():
    model, decay, lr = named_groups()
    owner = {}
    for module_name, module in model.named_modules():
        for name, _ in module.named_parameters(recurse=False):
            owner[f'{module_name}.{name}' if module_name else name] = \
                (module, name)
    assert set(decay) == set(owner)  # every parameter is in a group
    wrong = []
    for full, wd in decay.items():
        module, name = owner[full]
        expected = 0.05 if (name == 'weight' and isinstance(
            module, (nn.modules.conv._ConvNd, nn.Linear))) else 0.0
        if wd != expected:
            wrong.append((full, wd, expected))
    assert not wrong, wrong[:10]
    decayed = sorted(n for n, wd in decay.items() if wd > 0)
    # what ActionFormer exempts and MMEngine's norm_decay_mult missed
    for exempt in ('backbone.stem.0.norm1.weight', 'neck.norms.0.weight',
                   'head.scales.0.scale', 'head.cls_tower.norms.0.weight',
                   'backbone.stem.0.drop_path_attn.scale',
                   'head.class_sensitivity.probe.bias'):
        assert decay[exempt] == 0.0, exempt
    assert 'backbone.stem.0.attn.query.weight' in decayed
    assert 'head.conv_cls.conv.weight' in decayed
    # the class sensitivity has its own learning rate
    assert lr['head.class_sensitivity.probe.weight'] == \
        10 * lr['head.conv_cls.conv.weight']
    # the learned modes' Gaussians are parameters, never decayed
    cfg = Config.fromfile(EPIC)
    cfg.model.head.class_sensitivity.mode = 'reference'
    model = MODELS.build(cfg.model)
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    mu = model.head.class_sensitivity.mu
    group = next(g for g in wrapper.optimizer.param_groups
                 if any(p is mu for p in g['params']))
    assert group['weight_decay'] == 0.0
    # ... and keep the base lr, as in the authors' code (only the fitted
    # mode's probe has its own)
    assert group['lr'] == cfg.optim_wrapper.optimizer.lr


def test_groups_are_merged_by_setting():
    _, decay, lr = named_groups()
    cfg = Config.fromfile(EPIC)
    wrapper = build_optim_wrapper(MODELS.build(cfg.model), cfg.optim_wrapper)
    settings = {(g['lr'], g['weight_decay'])
                for g in wrapper.optimizer.param_groups}
    assert len(wrapper.optimizer.param_groups) == len(settings) <= 4


def test_probe_gradients_are_clipped_apart():
    """The fitted mode's probe trains on detached features: its gradients
    are clipped on their own, so a large probe loss leaves the detector's
    clipped step (and the logged grad_norm) as without the probe."""
    import torch
    cfg = Config.fromfile(EPIC)
    model = MODELS.build(cfg.model)
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    probe = set(id(p) for p in model.head.class_sensitivity.probe.parameters())
    torch.manual_seed(0)
    for p in model.parameters():
        p.grad = torch.randn_like(p) * (10.0 if id(p) in probe else 1e-3)
    detector = [p for p in model.parameters() if id(p) not in probe]
    raw = torch.cat([p.grad.flatten().double() for p in detector]).norm()
    before = [p.grad.clone() for p in detector]
    wrapper._clip_grad()
    scale = min(1.0, 1.0 / float(raw))
    for p, g in zip(detector, before):
        torch.testing.assert_close(p.grad, g * scale, rtol=1e-4, atol=0)
    probe_norm = torch.cat([p.grad.flatten() for p in
                            model.head.class_sensitivity.probe.parameters()
                            ]).norm()
    assert abs(float(probe_norm) - 1.0) < 1e-4  # clipped to its own max 1
    logged = wrapper.message_hub.get_scalar('train/grad_norm')
    assert abs(logged.current() - float(raw)) < 1e-4 * float(raw)
