"""Dense temporal action head: ActionFormer's classifier / regressor with
ASL's action-sensitive loss weighting.

Every point of every pyramid level predicts K class logits and the
distances (in strides) to the start and end of the action around it.
With ``class_sensitivity``, ``instance_sensitivity``, ``contrastive_loss``
and ``video_loss`` all None the head is exactly ActionFormer's.
"""
import math
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from mmengine.structures import InstanceData
from torch import Tensor
from mmaction.registry import MODELS

from ...post_processing import batched_nms_1d
from ..layers import MaskedConv1d, Scale
from ..losses import LossNormalizer
from ..task_modules import PointGenerator1D, assign_targets
from .conv_tower import MaskedConvTower
from .dense_decoding import level_candidates, segments_to_seconds
from ...structures import offsets_iou
from .dense_targets import (background_points, batch_segment_ids,
                            pad_gt_instances, video_multi_hot)

# Bias of classes that never occur in training: sigmoid ~ 1e-6.
EMPTY_CLASS_PROB = 1e-6


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
            probability starts at ~1e-6.
        strides, regress_ranges: Per level, see ``PointGenerator1D``.
        center_sample_radius (float): Centre sampling radius in strides.
        label_smoothing (float): ``eps``; targets become
            ``y * (1 - eps) + eps / (K + 1)``.
        loss_cls (dict): Classification loss (sum-reduced).
        loss_reg (dict): Regression loss (sum-reduced). A ``loss_weight``
            <= 0 selects ActionFormer's adaptive weight
            ``loss_cls / max(loss_reg, 0.01)`` (detached).
        loss_normalizer (dict): ``LossNormalizer`` arguments.
        class_sensitivity, instance_sensitivity, contrastive_loss,
        video_loss (dict, optional): ASL modules; None turns each off.
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
                              voting_threshold=0.7, class_agnostic=False)),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        bad = [c for c in empty_cls if not 0 <= c < num_classes]
        if bad:
            raise ValueError(f'empty_cls {bad} outside [0, {num_classes})')
        self.num_classes = num_classes
        self.prior_prob = prior_prob
        self.empty_cls = tuple(empty_cls)
        self.center_sample_radius = center_sample_radius
        self.label_smoothing = label_smoothing
        self.test_cfg = dict(test_cfg)
        self.prior_generator = PointGenerator1D(strides, regress_ranges)

        self.cls_tower = MaskedConvTower(in_channels, feat_channels,
                                         num_convs, kernel_size, with_ln)
        self.reg_tower = MaskedConvTower(in_channels, feat_channels,
                                         num_convs, kernel_size, with_ln)
        self.conv_cls = MaskedConv1d(feat_channels, num_classes, kernel_size)
        self.conv_reg = MaskedConv1d(feat_channels, 2, kernel_size)
        self.scales = nn.ModuleList(Scale(1.0) for _ in strides)

        self.loss_cls = MODELS.build(loss_cls)
        self.loss_reg = MODELS.build(loss_reg)
        # The adaptive rule replaces the weight, so the loss itself runs
        # unweighted.
        self.adaptive_reg_weight = self.loss_reg.loss_weight <= 0
        if self.adaptive_reg_weight:
            self.loss_reg.loss_weight = 1.0
        self.loss_normalizer = LossNormalizer(**loss_normalizer)
        # configs may leave out what the head already knows
        self.class_sensitivity = _build_optional(
            class_sensitivity, num_classes=num_classes)
        self.instance_sensitivity = _build_optional(
            instance_sensitivity, in_channels=in_channels)
        self.contrastive_loss = _build_optional(contrastive_loss,
                                                in_channels=in_channels)
        self.video_loss = _build_optional(video_loss)
        self._init_cls_bias()

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

    # ------------------------------------------------------------ forward
    def forward(self, feats: Sequence[Tensor], masks: Sequence[Tensor]
                ) -> Tuple[List[Tensor], List[Tensor]]:
        """Dense outputs of every level.

        Args:
            feats (Sequence[Tensor]): ``[B, D, T_l]`` per level.
            masks (Sequence[BoolTensor]): ``[B, 1, T_l]`` per level.

        Returns:
            tuple: ``cls_logits`` (list of ``[B, T_l, K]``) and
            ``reg_offsets`` (list of ``[B, T_l, 2]``, non-negative, in
            strides).
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
        return cls_logits, reg_offsets

    # --------------------------------------------------------------- loss
    def loss(self, feats: Sequence[Tensor], masks: Sequence[Tensor],
             data_samples: Sequence) -> Dict[str, Tensor]:
        """Training losses of a batch (see :meth:`loss_by_feat`)."""
        cls_logits, reg_offsets = self(feats, masks)
        quality = None
        if self.instance_sensitivity is not None:
            quality = self.instance_sensitivity(feats, masks)
        return self.loss_by_feat(cls_logits, reg_offsets, masks,
                                 data_samples, feats=feats,
                                 inst_quality=quality)

    def loss_by_feat(self, cls_logits: List[Tensor],
                     reg_offsets: List[Tensor], masks: Sequence[Tensor],
                     data_samples: Sequence,
                     feats: Optional[Sequence[Tensor]] = None,
                     inst_quality: Optional[List[Tensor]] = None
                     ) -> Dict[str, Tensor]:
        """Losses from the dense outputs.

        Points at padded steps (mask False) take no part. Focal loss over
        valid points and DIoU over positive points are sums divided by the
        EMA of the (global) number of positives, times the world size (see
        ``LossNormalizer``); so is the video-level loss. ASL multiplies a
        positive point's focal row by ``w_cls`` and its DIoU by ``w_loc``
        (class sensitivity, 1 without it, plus the detached instance
        quality when configured).

        Args:
            cls_logits (list[Tensor]): ``[B, T_l, K]`` per level.
            reg_offsets (list[Tensor]): ``[B, T_l, 2]`` per level.
            masks (Sequence[BoolTensor]): ``[B, 1, T_l]`` per level.
            data_samples (Sequence[TADDataSample]): ground truth in steps.
            feats (Sequence[Tensor], optional): ``[B, D, T_l]``, needed by
                the contrastive loss.
            inst_quality (list[Tensor], optional): ``[B, T_l, 2]`` from the
                instance-sensitivity module.

        Returns:
            dict: ``loss_cls``, ``loss_reg`` and, when configured,
            ``loss_inst``, ``loss_contrast``, ``loss_video``.
        """
        logits = torch.cat(cls_logits, dim=1)  # [B, P, K]
        offsets = torch.cat(reg_offsets, dim=1)  # [B, P, 2]
        valid = torch.cat([m[:, 0] for m in masks], dim=1)  # [B, P]
        points = self.prior_generator([c.shape[1] for c in cls_logits],
                                      device=logits.device)
        gt_segs, gt_labels, gt_valid = pad_gt_instances(
            data_samples, self.num_classes, logits.device)
        with torch.no_grad():
            cls_targets, reg_targets, pos, assigned = assign_targets(
                points, gt_segs, gt_labels, gt_valid, self.num_classes,
                self.center_sample_radius)
        pos = pos & valid
        assigned = assigned.masked_fill(~pos, -1)
        # sum / EMA(global positives) * world size: see LossNormalizer
        divisor = (self.loss_normalizer.update(pos.sum()) /
                   self.loss_normalizer.world_size())

        w_cls, w_loc, sens = self._positive_weights(
            points, gt_segs, gt_labels, gt_valid, pos, assigned)
        losses = {}
        if inst_quality is not None:
            quality = torch.cat(inst_quality, dim=1)[pos]  # [M, 2]
            w_cls = w_cls + quality[:, 0].detach()
            w_loc = w_loc + quality[:, 1].detach()
            losses['loss_inst'] = self._instance_loss(
                quality, logits[pos], offsets[pos], cls_targets[pos],
                reg_targets[pos])

        targets = cls_targets * (1 - self.label_smoothing) + \
            self.label_smoothing / (self.num_classes + 1)
        row_weight = torch.ones_like(valid, dtype=torch.float32)
        row_weight[pos] = w_cls.float()
        losses['loss_cls'] = self.loss_cls(
            logits[valid], targets[valid], weight=row_weight[valid],
            avg_factor=divisor)
        # an empty selection still sums to a 0 that is part of the graph
        loss_reg = self.loss_reg(offsets[pos], reg_targets[pos],
                                 weight=w_loc, avg_factor=divisor)
        if self.adaptive_reg_weight:
            loss_reg = loss_reg * (losses['loss_cls'].detach() /
                                   max(loss_reg.item(), 0.01))
        losses['loss_reg'] = loss_reg

        if self.contrastive_loss is not None:
            losses['loss_contrast'] = self._contrastive_loss(
                feats, points, gt_segs, gt_labels, gt_valid, valid, pos,
                assigned, sens)
        if self.video_loss is not None:
            # the released code divides this one by the normaliser too
            losses['loss_video'] = self.video_loss(
                logits, valid,
                video_multi_hot(gt_labels, gt_valid, self.num_classes),
                avg_factor=divisor)
        return losses

    def _positive_weights(self, points, gt_segs, gt_labels, gt_valid, pos,
                          assigned):
        """Class-sensitivity weights of the positive points.

        Returns:
            tuple: ``w_cls [M]``, ``w_loc [M]`` and the evaluator's dict
            (None when class sensitivity is off).
        """
        num_pos = int(pos.sum())
        ones = points.new_ones(num_pos)
        if self.class_sensitivity is None:
            return ones, ones, None
        video, point = torch.nonzero(pos, as_tuple=True)
        gt_index = assigned[pos]
        sens = self.class_sensitivity(
            points=points[point, 0], strides=points[point, 3],
            segments=gt_segs[video, gt_index],
            labels=gt_labels[video, gt_index],
            segment_ids=batch_segment_ids(assigned, gt_valid)[pos])
        return sens['cls'], sens['loc'], sens

    def _instance_loss(self, quality, logits, offsets, cls_targets,
                       reg_targets) -> Tensor:
        """Regress the instance quality of the positive points onto the
        detached GT-class confidence and predicted-segment tIoU."""
        if quality.shape[0] == 0:  # MSE of nothing would be NaN
            return quality.sum() * 0.0
        with torch.no_grad():
            is_gt_class = cls_targets > 0
            conf = logits.float().sigmoid().masked_fill(~is_gt_class, 0.0)
            cls_target = conf.max(dim=1).values
            loc_target = offsets_iou(offsets.float(), reg_targets)
        return self.instance_sensitivity.loss(quality, cls_target,
                                              loc_target)

    def _contrastive_loss(self, feats, points, gt_segs, gt_labels, gt_valid,
                          valid, pos, assigned, sens) -> Tensor:
        if feats is None:
            raise ValueError('contrastive_loss needs the pyramid feats: '
                             'pass feats= to loss_by_feat')
        point_feats = torch.cat([f.transpose(1, 2) for f in feats], dim=1)
        maps = []
        for key in ('cls', 'start', 'end'):
            full = torch.zeros_like(valid, dtype=point_feats.dtype)
            full[pos] = 1.0 if sens is None else sens[key].to(full.dtype)
            maps.append(full)
        return self.contrastive_loss(
            point_feats, batch_segment_ids(assigned, gt_valid), *maps,
            segment_labels=gt_labels[gt_valid],
            background_mask=background_points(points, gt_segs, gt_valid,
                                              valid))

    # ------------------------------------------------------------ predict
    def predict(self, feats: Sequence[Tensor], masks: Sequence[Tensor],
                data_samples: Sequence) -> list:
        """Detections of a batch, in seconds (see :meth:`predict_by_feat`)."""
        cls_logits, reg_offsets = self(feats, masks)
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
        points = torch.split(points, feat_lens, dim=0)
        all_segs, all_scores, all_labels = [], [], []
        for b in range(len(data_samples)):
            found = [level_candidates(
                (logit[b].float().sigmoid() * mask[b, 0, :, None]),
                offset[b].float(), pts, cfg['score_thr'], cfg['nms_pre'],
                cfg['min_duration'])
                for logit, offset, mask, pts in zip(cls_logits, reg_offsets,
                                                    masks, points)]
            segs, scores, labels = (torch.cat(x) for x in zip(*found))
            all_segs.append(segs)
            all_scores.append(scores)
            all_labels.append(labels)
        kept = batched_nms_1d(all_segs, all_scores, all_labels,
                              max_per_video=cfg['max_per_video'],
                              **cfg['nms'])
        for sample, (segs, scores, labels) in zip(data_samples, kept):
            pred = InstanceData()
            pred.segments = segments_to_seconds(segs, sample.metainfo)
            pred.scores = scores
            pred.labels = labels
            sample.pred_instances = pred
        return list(data_samples)


def _build_optional(cfg: Optional[dict], **defaults) -> Optional[nn.Module]:
    """Build ``cfg`` (None stays None), filling in missing ``defaults``."""
    if cfg is None:
        return None
    return MODELS.build({**defaults, **cfg})
