"""ActionFormer's parameter groups for MMEngine optimizers: weight decay on
the weights of convolutions and linear layers only."""
import inspect
from types import MethodType
from typing import Dict, List, Tuple

import torch.nn as nn
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapper
from mmaction.registry import (OPTIM_WRAPPER_CONSTRUCTORS, OPTIM_WRAPPERS,
                               OPTIMIZERS)

#: Modules whose ``weight`` is decayed (ActionFormer's whitelist, plus the
#: 2-D / 3-D convs of video backbones).
DECAYED_MODULES = (nn.modules.conv._ConvNd, nn.Linear)


def decays(module: nn.Module, param_name: str) -> bool:
    """ActionFormer's rule for one parameter of ``module``: only a conv or
    linear ``weight`` is decayed; biases, norms, the per-level regression
    scales, LayerScale / drop-path scales, position embeddings and the
    sensitivity profiles are not."""
    return param_name == 'weight' and isinstance(module, DECAYED_MODULES)


def clip_groups_apart(wrapper: OptimWrapper) -> None:
    """``OptimWrapper._clip_grad`` with the ``separate_grad_clip`` groups
    clipped on their own: a module trained on detached inputs (the fitted
    class sensitivity's probe) then cannot shrink the detector's step
    through the shared norm, and the logged ``grad_norm`` is the
    detector's."""
    shared, apart = [], []
    for group in wrapper.optimizer.param_groups:
        (apart if group.get('separate_grad_clip') else shared).extend(
            p for p in group['params']
            if p.requires_grad and p.grad is not None)
    for params, logged in ((shared, True), (apart, False)):
        if params:
            norm = wrapper.clip_func(params, **wrapper.clip_grad_kwargs)
            if logged and norm is not None:
                wrapper.message_hub.update_scalar(
                    f'train/{wrapper.grad_name}', float(norm))


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class ActionFormerOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """Parameter groups by ActionFormer's decay rule (:func:`decays`),
    whatever the norm layers' classes (MMEngine's ``norm_decay_mult`` only
    knows ``nn.LayerNorm`` and friends).

    ``paramwise_cfg`` accepts ``custom_keys`` only: a parameter whose full
    name contains a key gets ``lr = base_lr * lr_mult`` and its rule's decay
    times ``decay_mult`` (longest key first, as MMEngine), and
    ``separate_grad_clip=True`` clips their gradients apart from the rest
    (:func:`clip_groups_apart`; with ``clip_grad`` only). Parameters with
    equal settings share one group, so the optimizer's multi-tensor step
    stays fast.
    """

    def __call__(self, model: nn.Module) -> OptimWrapper:
        if hasattr(model, 'module'):
            model = model.module
        extra = set(self.paramwise_cfg) - {'custom_keys'}
        if extra:
            raise ValueError(f'{type(self).__name__}: paramwise_cfg takes '
                             f'custom_keys only (decay follows ActionFormer'
                             f"'s rule), got {sorted(extra)}")
        optimizer_cfg = self.optimizer_cfg.copy()
        optimizer_cls = optimizer_cfg['type']
        if isinstance(optimizer_cls, str):
            with OPTIMIZERS.switch_scope_and_registry(None) as registry:
                optimizer_cls = registry.get(optimizer_cls)
        first_arg = next(iter(inspect.signature(optimizer_cls).parameters))
        optimizer_cfg[first_arg] = self.param_groups(model)
        optimizer = OPTIMIZERS.build(optimizer_cfg)
        wrapper_cfg = self.optim_wrapper_cfg.copy()
        wrapper_cfg.setdefault('type', 'OptimWrapper')
        wrapper = OPTIM_WRAPPERS.build(wrapper_cfg,
                                       default_args=dict(optimizer=optimizer))
        if any(g.get('separate_grad_clip') for g in optimizer.param_groups) \
                and hasattr(wrapper, 'clip_grad_kwargs'):
            wrapper._clip_grad = MethodType(clip_groups_apart, wrapper)
        return wrapper

    def param_groups(self, model: nn.Module) -> List[dict]:
        """Groups of trainable parameters, one per distinct (lr, decay)."""
        custom = self.paramwise_cfg.get('custom_keys', {})
        keys = sorted(sorted(custom), key=len, reverse=True)
        base_wd = self.base_wd or 0.0
        groups: Dict[Tuple[float, float, bool], dict] = {}
        seen = set()
        for module_name, module in model.named_modules():
            for name, param in module.named_parameters(recurse=False):
                if not param.requires_grad or id(param) in seen:
                    continue
                seen.add(id(param))
                full = f'{module_name}.{name}' if module_name else name
                lr, wd = self.base_lr, base_wd if decays(module, name) else 0.0
                apart = False
                for key in keys:
                    if key in full:
                        lr = self.base_lr * custom[key].get('lr_mult', 1.0)
                        wd = wd * custom[key].get('decay_mult', 1.0)
                        apart = bool(custom[key].get('separate_grad_clip'))
                        break
                group = groups.setdefault(
                    (lr, wd, apart), dict(params=[], lr=lr, weight_decay=wd,
                                          names=[]))
                if apart:
                    group['separate_grad_clip'] = True
                group['params'].append(param)
                group['names'].append(full)
        return list(groups.values())
