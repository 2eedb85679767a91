"""Dense temporal action head: ActionFormer's classifier / regressor with
ASL's action-sensitive loss weighting.

Every point of every pyramid level predicts K class logits and the
distances (in strides) to the start and end of the action around it.
MMDetection's dense-head layout: :meth:`ASLHead.forward` runs the layers,
:meth:`ASLHead.get_targets` builds every target in one stage,
:meth:`ASLHead.loss_by_feat` / :meth:`ASLHead.predict_by_feat` consume the
forward outputs, so ``loss(x) == loss_by_feat(*forward(x), targets)``.
With the four ASL plug-ins (``class_sensitivity``,
``instance_sensitivity``, ``contrastive_loss``, ``video_loss``) all None the
head is exactly ActionFormer's.
"""
import math
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from mmengine.structures import InstanceData
from torch import Tensor
from mmaction.registry import MODELS

from asl_mmaction.utils.dist_utils import mean_over_ranks
from ...post_processing import batched_nms_1d
from ...structures import offsets_iou
from ..layers import MaskedConv1d, MaskedConvTower1d, Scale
from ..losses import LossNormalizer
from ..task_modules import (DenseTargets, PointGenerator1D,
                            build_dense_targets)
from .dense_decoding import batch_candidates, segments_to_seconds
from .plugins import (BaseClassSensitivity, BaseContrastiveLoss,
                      BaseInstanceSensitivity, BaseVideoLoss, build_plugin)

# Classifier bias of classes without training data: sigmoid ~ 1e-6.
EMPTY_CLASS_PROB = 1e-6

#: What :meth:`ASLHead.forward` returns, per level: class logits
#: ``[B, T_l, K]``, regression offsets ``[B, T_l, 2]`` (strides), and in
#: training only (else None) the instance-sensitivity quality
#: ``[B, T_l, 2]`` and the point features ``[B, T_l, D]`` the contrastive
#: loss reads.
HeadOutputs = Tuple[List[Tensor], List[Tensor], Optional[List[Tensor]],
                    Optional[List[Tensor]]]


@MODELS.register_module()
class ASLHead(BaseModule):
    """Anchor-free 1-D head shared across pyramid levels.

    Args:
        num_classes (int): ``K``.
        in_channels (int): Channels of the pyramid features.
        feat_channels (int): Channels of the towers.
        num_convs (int): Convs per tower (before the output conv).
        kernel_size (int): Kernel of every conv.
        with_ln (bool): LayerNorm after each tower conv.
        prior_prob (float): Initial foreground probability of the
            classifier (its bias), so the focal loss starts stable.
        empty_cls (Sequence[int]): Classes without training data; their
            probability starts at ~1e-6. ``EmptyClassPriorHook`` fills it in
            from the training set.
        strides, regress_ranges: Per level, see ``PointGenerator1D``.
        center_sample_radius (float): Centre sampling radius in strides.
        label_smoothing (float): ``eps``; targets become
            ``y * (1 - eps) + eps / (K + 1)``.
        loss_cls (dict): Classification loss (sum-reduced).
        loss_reg (dict): Regression loss (sum-reduced). A ``loss_weight``
            <= 0 selects ActionFormer's adaptive weight
            ``loss_cls / max(loss_reg, 0.01)`` (detached, from the values
            averaged over all processes).
        loss_normalizer (dict): ``LossNormalizer`` arguments.
        class_sensitivity, instance_sensitivity, contrastive_loss,
        video_loss (dict, optional): ASL plug-ins (see ``plugins.py``);
            None turns each off.
        test_cfg (dict): ``score_thr``, ``nms_pre`` (per level),
            ``min_duration`` (steps), ``max_per_video`` and ``nms`` (the
            arguments of ``batched_nms_1d``).
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 feat_channels: int,
                 num_convs: int = 2,
                 kernel_size: int = 3,
                 with_ln: bool = True,
                 prior_prob: float = 0.01,
                 empty_cls: Sequence[int] = (),
                 strides: Sequence[int] = (1, 2, 4, 8, 16, 32),
                 regress_ranges: Sequence[Tuple[float, float]] = (
                     (0, 4), (4, 8), (8, 16), (16, 32), (32, 64), (64, 1e4)),
                 center_sample_radius: float = 1.5,
                 label_smoothing: float = 0.0,
                 loss_cls: dict = dict(type='SigmoidFocalLoss', alpha=0.25,
                                       gamma=2.0, loss_weight=1.0),
                 loss_reg: dict = dict(type='DIoULoss1D', loss_weight=1.0),
                 loss_normalizer: dict = dict(init=100.0, momentum=0.9),
                 class_sensitivity: Optional[dict] = None,
                 instance_sensitivity: Optional[dict] = None,
                 contrastive_loss: Optional[dict] = None,
                 video_loss: Optional[dict] = None,
                 test_cfg: dict = dict(
                     score_thr=0.001, nms_pre=5000, min_duration=0.05,
                     max_per_video=2000,
                     nms=dict(method='soft_gaussian', iou_threshold=0.1,
                              sigma=0.5, min_score=0.001,
                              class_agnostic=False)),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.num_classes = num_classes
        self.prior_prob = prior_prob
        self.empty_cls = self._check_classes(empty_cls)
        self.center_sample_radius = center_sample_radius
        self.label_smoothing = label_smoothing
        self.test_cfg = dict(test_cfg)
        self.prior_generator = PointGenerator1D(strides, regress_ranges)

        self.cls_tower = MaskedConvTower1d(in_channels, feat_channels,
                                           num_convs, kernel_size, with_ln)
        self.reg_tower = MaskedConvTower1d(in_channels, feat_channels,
                                           num_convs, kernel_size, with_ln)
        tower_out = self.cls_tower.out_channels
        self.conv_cls = MaskedConv1d(tower_out, num_classes, kernel_size)
        self.conv_reg = MaskedConv1d(tower_out, 2, kernel_size)
        self.scales = nn.ModuleList(Scale(1.0) for _ in strides)

        self.loss_cls = MODELS.build(loss_cls)
        self.loss_reg = MODELS.build(loss_reg)
        # The adaptive rule replaces the weight, so the loss itself runs
        # unweighted.
        self.adaptive_reg_weight = self.loss_reg.loss_weight <= 0
        if self.adaptive_reg_weight:
            self.loss_reg.loss_weight = 1.0
        self.loss_normalizer = LossNormalizer(**loss_normalizer)
        self.class_sensitivity = build_plugin(
            class_sensitivity, BaseClassSensitivity, MODELS,
            num_classes=num_classes)
        self.instance_sensitivity = build_plugin(
            instance_sensitivity, BaseInstanceSensitivity, MODELS,
            in_channels=in_channels)
        self.contrastive_loss = build_plugin(
            contrastive_loss, BaseContrastiveLoss, MODELS,
            in_channels=in_channels)
        self.video_loss = build_plugin(video_loss, BaseVideoLoss, MODELS)
        self._init_cls_bias()

    # ------------------------------------------------------- initialisation
    def _check_classes(self, classes: Sequence[int]) -> Tuple[int, ...]:
        bad = [c for c in classes if not 0 <= c < self.num_classes]
        if bad:
            raise ValueError(f'empty_cls {bad} outside [0, '
                             f'{self.num_classes})')
        return tuple(int(c) for c in classes)

    def _init_cls_bias(self) -> None:
        bias = self.conv_cls.conv.bias
        with torch.no_grad():
            bias.fill_(-math.log((1 - self.prior_prob) / self.prior_prob))
            for c in self.empty_cls:
                bias[c] = -math.log((1 - EMPTY_CLASS_PROB) / EMPTY_CLASS_PROB)

    def init_weights(self) -> None:
        """Generic init first, then the classifier's prior bias."""
        super().init_weights()
        self._init_cls_bias()

    def set_empty_classes(self, classes: Sequence[int]) -> None:
        """Start the classifier of ``classes`` (absent from the training
        data) at probability ~1e-6, as ActionFormer's ``head_empty_cls``;
        call it before training."""
        self.empty_cls = self._check_classes(classes)
        with torch.no_grad():
            for c in self.empty_cls:
                self.conv_cls.conv.bias[c] = -math.log(
                    (1 - EMPTY_CLASS_PROB) / EMPTY_CLASS_PROB)

    # ------------------------------------------------------------ forward
    def forward(self, feats: Sequence[Tensor],
                masks: Sequence[Tensor]) -> HeadOutputs:
        """Dense outputs of every level (see :data:`HeadOutputs`).

        Args:
            feats (Sequence[Tensor]): ``[B, D, T_l]`` per level, zero at
                padded steps.
            masks (Sequence[BoolTensor]): ``[B, 1, T_l]`` per level.
        """
        if len(feats) != self.prior_generator.num_levels:
            raise ValueError(f'ASLHead got {len(feats)} feature levels, '
                             f'configured for '
                             f'{self.prior_generator.num_levels} strides')
        cls_logits, reg_offsets = [], []
        for feat, mask, scale in zip(feats, masks, self.scales):
            logits, _ = self.conv_cls(self.cls_tower(feat, mask), mask)
            offsets, _ = self.conv_reg(self.reg_tower(feat, mask), mask)
            cls_logits.append(logits.transpose(1, 2))
            reg_offsets.append(torch.relu(scale(offsets)).transpose(1, 2))
        quality = point_feats = None
        if self.training and self.instance_sensitivity is not None:
            quality = self.instance_sensitivity(feats, masks)
        if self.training and self.contrastive_loss is not None:
            point_feats = [f.transpose(1, 2) for f in feats]
        return cls_logits, reg_offsets, quality, point_feats

    # ------------------------------------------------------------ targets
    def get_targets(self, masks: Sequence[Tensor],
                    data_samples: Sequence) -> DenseTargets:
        """Every target of a batch (see ``DenseTargets``), the
        class-sensitivity weights and profiles included.

        Args:
            masks (Sequence[BoolTensor]): ``[B, 1, T_l]`` per level.
            data_samples (Sequence[TADDataSample]): ground truth in steps.
        """
        device = masks[0].device
        points = self.prior_generator([m.shape[-1] for m in masks],
                                      device=device)
        valid = torch.cat([m[:, 0] for m in masks], dim=1)
        targets = build_dense_targets(points, valid, data_samples,
                                      self.num_classes,
                                      self.center_sample_radius)
        if self.class_sensitivity is not None:
            targets.cls_weight, targets.loc_weight = \
                self.class_sensitivity(targets.positives)
            with torch.no_grad():
                targets.sensitivity = self.class_sensitivity.profile(
                    targets.inside)
        return targets

    # --------------------------------------------------------------- loss
    def loss(self, feats: Sequence[Tensor], masks: Sequence[Tensor],
             data_samples: Sequence) -> Dict[str, Tensor]:
        """Training losses of a batch (see :meth:`loss_by_feat`)."""
        outputs = self(feats, masks)
        return self.loss_by_feat(*outputs,
                                 targets=self.get_targets(masks, data_samples))

    def loss_by_feat(self, cls_logits: List[Tensor],
                     reg_offsets: List[Tensor],
                     quality: Optional[List[Tensor]],
                     point_feats: Optional[List[Tensor]],
                     targets: DenseTargets) -> Dict[str, Tensor]:
        """ActionFormer's focal + DIoU losses, each positive point weighted
        by its action sensitivity, plus ASL's extra terms.

        Focal loss over valid points and DIoU over positive points are sums
        divided by the EMA of the (global) number of positives, times the
        world size (see ``LossNormalizer``); so is the video-level loss. A
        positive point's focal row is weighted by ``targets.cls_weight``
        and its DIoU by ``targets.loc_weight`` (1 without class-level
        sensitivity), plus its detached instance quality when configured.

        Returns:
            dict: ``loss_cls``, ``loss_reg`` and, when configured,
            ``loss_inst``, ``loss_sens`` (the class-sensitivity fit),
            ``loss_contrast``, ``loss_video``.
        """
        logits = torch.cat(cls_logits, dim=1)  # [B, P, K]
        offsets = torch.cat(reg_offsets, dim=1)  # [B, P, 2]
        pos, valid = targets.pos_mask, targets.valid
        # sum / EMA(global positives) * world size: see LossNormalizer
        divisor = (self.loss_normalizer.update(pos.sum()) /
                   self.loss_normalizer.world_size())
        w_cls, w_loc = targets.cls_weight, targets.loc_weight
        losses = {}
        if quality is not None:
            pred = torch.cat(quality, dim=1)[pos]  # [M, 2]
            w_cls = w_cls + pred[:, 0].detach()
            w_loc = w_loc + pred[:, 1].detach()
            losses['loss_inst'] = self.instance_sensitivity.loss(
                pred, positive_quality(logits[pos], offsets[pos],
                                       targets.cls_targets[pos],
                                       targets.reg_targets[pos]))

        smoothed = targets.cls_targets * (1 - self.label_smoothing) + \
            self.label_smoothing / (self.num_classes + 1)
        row_weight = torch.ones_like(valid, dtype=torch.float32)
        row_weight[pos] = w_cls.float()
        losses['loss_cls'] = self.loss_cls(
            logits[valid], smoothed[valid], weight=row_weight[valid],
            avg_factor=divisor)
        # an empty selection still sums to a 0 that is part of the graph
        loss_reg = self.loss_reg(offsets[pos], targets.reg_targets[pos],
                                 weight=w_loc, avg_factor=divisor)
        if self.adaptive_reg_weight:
            loss_reg = loss_reg * adaptive_reg_weight(losses['loss_cls'],
                                                      loss_reg)
        losses['loss_reg'] = loss_reg

        if self.class_sensitivity is not None:
            fit = self.class_sensitivity.fit_loss(
                targets.inside, inside_quality(logits, offsets, targets))
            if fit is not None:
                losses['loss_sens'] = fit
        if self.contrastive_loss is not None:
            losses['loss_contrast'] = self.contrastive_loss(
                torch.cat(point_feats, dim=1), targets)
        if self.video_loss is not None:
            # the released code divides this one by the normaliser too
            losses['loss_video'] = self.video_loss(logits, targets, divisor)
        return losses

    # ------------------------------------------------------------ predict
    def predict(self, feats: Sequence[Tensor], masks: Sequence[Tensor],
                data_samples: Sequence) -> list:
        """Detections of a batch, in seconds (see :meth:`predict_by_feat`)."""
        cls_logits, reg_offsets, _, _ = self(feats, masks)
        return self.predict_by_feat(cls_logits, reg_offsets, masks,
                                    data_samples)

    def predict_by_feat(self, cls_logits: List[Tensor],
                        reg_offsets: List[Tensor], masks: Sequence[Tensor],
                        data_samples: Sequence) -> list:
        """ActionFormer's inference on every video of the batch.

        Per level: probabilities above ``score_thr``, the best ``nms_pre``,
        decoded and filtered by ``min_duration``; then NMS over all levels,
        ``crop_start`` added, conversion to seconds, clipping to
        ``[0, duration]``.

        Returns:
            list[TADDataSample]: ``data_samples`` with ``pred_instances``
            (``segments [M, 2]`` seconds, ``scores [M]``, ``labels [M]``).
        """
        cfg = self.test_cfg
        feat_lens = [c.shape[1] for c in cls_logits]
        points = self.prior_generator(feat_lens, device=cls_logits[0].device)
        candidates = batch_candidates(
            cls_logits, reg_offsets, masks,
            torch.split(points, feat_lens, dim=0), cfg['score_thr'],
            cfg['nms_pre'], cfg['min_duration'])
        kept = batched_nms_1d(*(list(x) for x in zip(*candidates)),
                              max_per_video=cfg['max_per_video'],
                              **cfg['nms'])
        for sample, (segs, scores, labels) in zip(data_samples, kept):
            pred = InstanceData()
            pred.segments = segments_to_seconds(segs, sample.metainfo)
            pred.scores = scores
            pred.labels = labels
            sample.pred_instances = pred
        return list(data_samples)


def adaptive_reg_weight(loss_cls: Tensor, loss_reg: Tensor) -> Tensor:
    """ActionFormer's ``loss_cls / max(loss_reg, 0.01)``, detached, from
    the losses averaged over processes: every rank then scales by the same
    factor, and N processes train like one process with the N batches."""
    mean = mean_over_ranks(dict(cls=loss_cls.detach(),
                                reg=loss_reg.detach()))
    return mean['cls'] / mean['reg'].clamp(min=0.01)


@torch.no_grad()
def positive_quality(logits: Tensor, offsets: Tensor, cls_targets: Tensor,
                     reg_targets: Tensor) -> Tensor:
    """Measured quality of ``M`` positive points, the instance branch's
    targets: ``[M, 2]`` = (sigmoid confidence of the best ground-truth
    class, tIoU of the decoded segment with the target one)."""
    conf = logits.float().sigmoid().masked_fill(cls_targets <= 0, 0.0)
    return torch.stack([conf.max(dim=1).values,
                        offsets_iou(offsets.float(), reg_targets)], dim=1)


@torch.no_grad()
def inside_quality(logits: Tensor, offsets: Tensor,
                   targets: DenseTargets) -> Tensor:
    """How well the detector does at every point inside a segment, the
    class-sensitivity fit's target: ``[Q, 3]`` =

    - ``cls``: sigmoid confidence of the segment's class at the point;
    - ``start`` / ``end``: ``1 - min(|error| / length, 1)`` of the start /
      end the point's own regression decodes.

    Args:
        logits (Tensor): ``[B, P, K]``.
        offsets (Tensor): ``[B, P, 2]`` in strides.
        targets (DenseTargets): its ``inside`` pairs.
    """
    inside = targets.inside
    if len(inside) == 0:
        return logits.new_zeros(0, 3, dtype=torch.float32)
    conf = logits[inside.video, inside.point, inside.label].float().sigmoid()
    t = targets.points[inside.point, 0]
    gt = targets.gt_segments[targets.gt_valid][inside.segment]  # [Q, 2]
    pred = offsets[inside.video, inside.point].float() * inside.stride[:,
                                                                       None]
    error = torch.stack([(t - pred[:, 0]) - gt[:, 0],
                         (t + pred[:, 1]) - gt[:, 1]], dim=1).abs()
    accuracy = 1.0 - (error / inside.length[:, None]).clamp(max=1.0)
    return torch.cat([conf[:, None], accuracy], dim=1)
