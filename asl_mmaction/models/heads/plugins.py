"""The contracts of ``ASLHead``'s four training-only plug-ins.

A plug-in is any registered ``nn.Module`` subclassing one of the base
classes below; the head builds it from its config (``class_sensitivity=``,
``instance_sensitivity=``, ``contrastive_loss=``, ``video_loss=``; None
turns it off) and passes the constructor arguments each base class lists
under "Built with" when the config leaves them out. Everything a plug-in
receives is typed: the head's ``DenseTargets`` / ``SegmentPoints``
(``models/task_modules/dense_targets.py``) and plain tensors with the shapes
given here. Times are feature steps, positions are relative to the segment
(``-0.5`` start, ``0`` centre, ``+0.5`` end).

Writing a new one is one class and one config line, e.g.::

    @MODELS.register_module()
    class MyClassSensitivity(BaseClassSensitivity):
        def __init__(self, num_classes): ...
        def forward(self, positives): ...   # -> (cls_weight, loc_weight)
        def profile(self, pairs): ...       # -> [Q, 3]
        def curves(self, positions): ...    # -> [K, 3, X]

    model = dict(head=dict(class_sensitivity=dict(type='MyClassSensitivity')))
"""
from typing import List, Optional, Sequence, Tuple

import torch.nn as nn
from torch import Tensor

from ..task_modules.dense_targets import DenseTargets, SegmentPoints

#: Columns of a class-level sensitivity profile.
SENSITIVITY_TASKS = ('cls', 'start', 'end')


class BaseClassSensitivity(nn.Module):
    """Class-level sensitivity: per class, how much a point matters for
    classification (``cls``) and for locating the start / end, as a function
    of its relative position inside the action.

    Built with: ``num_classes`` (int).
    """

    num_classes: int

    def forward(self, positives: SegmentPoints) -> Tuple[Tensor, Tensor]:
        """Loss weights of the ``M`` positive points.

        Returns:
            tuple: ``cls_weight [M]`` (focal loss row) and ``loc_weight
            [M]`` (DIoU), non-negative. Gradients may flow to the module's
            parameters (modules that learn through the weighted losses).
        """
        raise NotImplementedError

    def profile(self, pairs: SegmentPoints) -> Tensor:
        """``[Q, 3]`` non-negative sensitivity ``(cls, start, end)`` of
        points inside segments (for the contrastive loss's anchors)."""
        raise NotImplementedError

    def curves(self, positions: Tensor) -> Tensor:
        """``[K, 3, X]`` profile of every class at ``positions [X]`` (for
        plots, logs and benchmarks; stride 1 where the profile depends on
        it)."""
        raise NotImplementedError

    def fit_loss(self, pairs: SegmentPoints,
                 quality: Tensor) -> Optional[Tensor]:
        """A loss that fits the profiles to the detector's own per-point
        quality, or None for a module that learns only through the losses
        it weights.

        Args:
            pairs (SegmentPoints): ``Q`` points inside segments.
            quality (Tensor): ``[Q, 3]`` detached, in ``[0, 1]``: GT-class
                confidence and start / end accuracy of each point's own
                prediction.
        """
        return None


class BaseInstanceSensitivity(nn.Module):
    """Instance-level sensitivity: a branch predicting, for every point, the
    quality of the detector's own classification and localization there.

    Built with: ``in_channels`` (int, width of the pyramid features).
    """

    def forward(self, feats: Sequence[Tensor],
                masks: Sequence[Tensor]) -> List[Tensor]:
        """Per level ``[B, D, T_l]`` / ``[B, 1, T_l]`` -> per level
        ``[B, T_l, 2]`` quality in ``[0, 1]`` (``[..., 0]``
        classification, ``[..., 1]`` localization)."""
        raise NotImplementedError

    def loss(self, pred: Tensor, target: Tensor) -> Tensor:
        """Scalar loss of ``pred [M, 2]`` against the measured (detached)
        quality ``target [M, 2]`` of the positive points; a graph-connected
        zero when ``M == 0``."""
        raise NotImplementedError


class BaseContrastiveLoss(nn.Module):
    """A loss on the pyramid features of the points, given the targets.

    Built with: ``in_channels`` (int, width of the pyramid features).
    """

    def forward(self, point_feats: Tensor, targets: DenseTargets) -> Tensor:
        """Scalar loss.

        Args:
            point_feats (Tensor): ``[B, P, D]`` features of every point
                (levels concatenated, as ``targets.points``).
            targets (DenseTargets): ``inside`` pairs, their
                ``sensitivity`` (None without class-level sensitivity),
                ``segment_labels`` and ``background`` are what a
                contrastive loss typically uses.

        Returns:
            Tensor: scalar, a graph-connected zero when nothing applies
            (DDP needs every parameter in the graph).
        """
        raise NotImplementedError


class BaseVideoLoss(nn.Module):
    """A loss on the whole video's class scores.

    Built with: nothing.
    """

    def forward(self, cls_logits: Tensor, targets: DenseTargets,
                avg_factor: float) -> Tensor:
        """Scalar loss from ``cls_logits [B, P, K]`` (every point) and
        ``targets.valid`` / ``targets.video_labels``, divided by
        ``avg_factor`` (the head's loss normaliser)."""
        raise NotImplementedError


def build_plugin(cfg: Optional[dict], base: type, registry,
                 **built_with) -> Optional[nn.Module]:
    """Build a plug-in (None stays None) and check its contract.

    ``built_with`` are the constructor arguments the head provides (see
    each base class); the config's own values win.

    Raises:
        TypeError: naming the config and the base class when the built
            module does not subclass ``base``.
    """
    if cfg is None:
        return None
    module = registry.build(cfg, default_args=built_with)
    if not isinstance(module, base):
        raise TypeError(f'{cfg.get("type")} is not a {base.__name__}: a '
                        f'plug-in of ASLHead must subclass '
                        f'asl_mmaction.models.heads.plugins.{base.__name__}')
    return module
