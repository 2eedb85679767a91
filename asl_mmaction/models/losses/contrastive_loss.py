"""ASL's action-sensitive contrastive loss (ASCL).

For every ground-truth action three anchors are drawn among the points
inside it (every level): a classification-, a start- and an end-sensitive
one, each with probability proportional to the class-level sensitivity
profile (``targets.sensitivity``) raised to ``anchor_power``. Their
features are projected and L2-normalised. Each anchor's positives are the
other anchors of the same class in the batch (the other two of its own
action included, unless they fell on the same point), its negatives the
anchors of other classes and background points sampled outside every
action. The sensitive features of an action thus learn to agree, and to
differ from background.

Without class-level sensitivity the anchors are drawn from fixed profiles
(``PRIOR_MU`` with ``PRIOR_SIGMA``: near the centre, the start and the end
of the action), so they stay three distinct points rather than one point
three times.

Per anchor ``a`` with positives ``P(a)`` and negatives ``N(a)``::

    l(a) = mean_{p in P(a)} -log(e^s_ap / (e^s_ap + sum_{n in N(a)} e^s_an))

with ``s = cos / temperature``; the loss is the mean of ``l(a)`` over the
anchors having at least one positive and one negative, times
``loss_weight``.
"""
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor
from mmaction.registry import MODELS

from ..heads.plugins import BaseContrastiveLoss
from ..sensitivity.profile_fitting import log_gaussian
from ..task_modules.dense_targets import DenseTargets

#: Anchor profiles (cls, start, end) without class-level sensitivity.
PRIOR_MU = (0.0, -0.5, 0.5)
PRIOR_SIGMA = 0.25


def sample_per_segment(log_weight: Tensor, segment: Tensor,
                       num_segments: int,
                       generator: Optional[torch.Generator] = None
                       ) -> Tensor:
    """One entry per segment, drawn with probability ``softmax(log_weight)``
    among the segment's entries (Gumbel-max, vectorised).

    Args:
        log_weight (Tensor): ``[Q]`` log of the (unnormalised) probability;
            ``inf`` entries win outright (ties to the lowest index).
        segment (LongTensor): ``[Q]`` segment of each entry in
            ``0..S-1``.
        num_segments (int): ``S``.
        generator (torch.Generator, optional): Source of randomness.

    Returns:
        LongTensor: ``[S]`` index into the ``Q`` entries; ``Q`` for
        segments without entries.
    """
    q = log_weight.numel()
    device = generator.device if generator is not None else log_weight.device
    u = torch.rand(q, generator=generator, device=device).to(
        log_weight.device).clamp(1e-12, 1 - 1e-7)
    key = log_weight.detach().float() - torch.log(-torch.log(u))
    best = key.new_full((num_segments, ), float('-inf')).scatter_reduce(
        0, segment, key, reduce='amax')
    win = key == best[segment]
    index = torch.arange(q, device=key.device)
    return index.new_full((num_segments, ), q).scatter_reduce(
        0, segment[win], index[win], reduce='amin')


def sample_background(background_mask: Tensor, num_per_video: int,
                      generator: Optional[torch.Generator] = None) -> Tensor:
    """Up to ``num_per_video`` random background points of every video.

    One uniform draw per point and a top-k per video: vectorised, and fixed
    by the seed of ``generator`` (the global generator when None).

    Args:
        background_mask (BoolTensor): ``[B, P]``.
        num_per_video (int): Points to keep per video (fewer if the video
            has fewer background points).
        generator (torch.Generator, optional): Source of randomness.

    Returns:
        LongTensor: ``[G]`` flat indices into ``B * P``.
    """
    b, p = background_mask.shape
    k = min(num_per_video, p)
    if k <= 0:
        return torch.zeros(0, dtype=torch.long, device=background_mask.device)
    device = generator.device if generator is not None \
        else background_mask.device
    score = torch.rand(b, p, generator=generator, device=device)
    score = score.to(background_mask.device).masked_fill(~background_mask,
                                                         -1.0)
    top_score, top_idx = score.topk(k, dim=1)
    flat = top_idx + torch.arange(b, device=top_idx.device)[:, None] * p
    return flat[top_score >= 0]


def anchor_losses(anchors: Tensor, anchor_labels: Tensor,
                  anchor_points: Tensor, background: Tensor,
                  temperature: float) -> Tuple[Tensor, Tensor]:
    """Per-anchor InfoNCE over the action embeddings and the background.

    Args:
        anchors (Tensor): ``[A, C]`` L2-normalised action embeddings.
        anchor_labels (LongTensor): ``[A]`` class of each.
        anchor_points (LongTensor): ``[A]`` flat point index of each: an
            anchor is never its own positive, nor is another anchor on the
            same point.
        background (Tensor): ``[G, C]`` L2-normalised background embeddings.
        temperature (float): ``tau``.

    Returns:
        tuple: ``loss [A]`` and ``valid [A]`` (anchor has a positive and a
        negative; ``loss`` is 0 elsewhere).
    """
    num_a = anchors.shape[0]
    sim = anchors @ torch.cat([anchors, background]).t() / temperature
    same = anchor_labels[:, None] == anchor_labels[None, :]
    pos = same & (anchor_points[:, None] != anchor_points[None, :])
    neg = torch.cat([~same, torch.ones_like(sim[:, num_a:], dtype=torch.bool)],
                    dim=1)
    has_neg = neg.any(dim=1)
    # rows without negatives keep finite values (their loss is dropped), so
    # logsumexp never sees a row of -inf, whose gradient is NaN
    keep = neg | ~has_neg[:, None]
    neg_lse = sim.masked_fill(~keep, float('-inf')).logsumexp(dim=1)  # [A]
    # -log(e^s / (e^s + e^lse)) = softplus(lse - s)
    pair = F.softplus(neg_lse[:, None] - sim[:, :num_a])
    num_pos = pos.sum(dim=1)
    valid = (num_pos > 0) & has_neg
    loss = (pair * pos).sum(dim=1) / num_pos.clamp_min(1)
    return loss.masked_fill(~valid, 0.0), valid


@MODELS.register_module()
class ActionSensitiveContrastiveLoss(BaseContrastiveLoss):
    """Contrast the sensitive features of actions with each other and with
    background.

    Args:
        in_channels (int): Channels ``D`` of the point features.
        proj_channels (int): Output channels of the projection head
            (Linear-ReLU-Linear, hidden width ``D``). Defaults to 128.
        temperature (float): InfoNCE temperature. Defaults to 0.1.
        loss_weight (float): Multiplier of the loss. Defaults to 0.1.
        num_background (int): Background points sampled per video.
            Defaults to 32.
        anchor_power (float): Anchors are drawn with probability
            proportional to ``profile ** anchor_power``; larger values
            concentrate them on the profile's peak, ``inf`` takes the
            argmax. Defaults to 1.
    """

    def __init__(self, in_channels: int, proj_channels: int = 128,
                 temperature: float = 0.1, loss_weight: float = 0.1,
                 num_background: int = 32,
                 anchor_power: float = 1.0) -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f'temperature must be > 0, got {temperature}')
        if num_background < 0:
            raise ValueError(f'num_background must be >= 0, got '
                             f'{num_background}')
        if not anchor_power > 0:
            raise ValueError(f'anchor_power must be > 0, got {anchor_power}')
        self.in_channels = in_channels
        self.temperature = temperature
        self.loss_weight = loss_weight
        self.num_background = num_background
        self.anchor_power = anchor_power
        self.proj = nn.Sequential(
            nn.Linear(in_channels, in_channels), nn.ReLU(inplace=True),
            nn.Linear(in_channels, proj_channels))

    def embed(self, feats: Tensor) -> Tensor:
        """``[N, D] -> [N, proj_channels]`` unit vectors (float32)."""
        return F.normalize(self.proj(feats).float(), dim=1)

    def anchor_log_weights(self, targets: DenseTargets) -> Tensor:
        """``[Q, 3]`` log probability (unnormalised) of each inside pair to
        be the (cls, start, end) anchor of its segment."""
        inside = targets.inside
        if targets.sensitivity is not None:
            log_p = targets.sensitivity.float().clamp_min(1e-30).log()
        else:
            mu = inside.position.new_tensor(PRIOR_MU)
            log_p = log_gaussian(inside.position.float()[:, None], mu,
                                 mu.new_tensor(PRIOR_SIGMA))
        if self.anchor_power == float('inf'):
            best = log_p == log_p.new_full(
                (targets.segment_labels.numel(), 3),
                float('-inf')).scatter_reduce(
                    0, inside.segment[:, None].expand(-1, 3), log_p,
                    reduce='amax')[inside.segment]
            return torch.where(best, float('inf'), float('-inf'))
        return self.anchor_power * log_p

    def forward(self, point_feats: Tensor, targets: DenseTargets,
                generator: Optional[torch.Generator] = None) -> Tensor:
        """See :class:`BaseContrastiveLoss`.

        Args:
            point_feats (Tensor): ``[B, P, D]``.
            targets (DenseTargets): the batch's targets.
            generator (torch.Generator, optional): For the anchor and
                background draws (the global generator when None).
        """
        b, p, d = point_feats.shape
        if d != self.in_channels or tuple(targets.valid.shape) != (b, p):
            raise ValueError(
                f'ActionSensitiveContrastiveLoss: point_feats '
                f'{tuple(point_feats.shape)}, expected [B, P, '
                f'{self.in_channels}] with [B, P] = '
                f'{tuple(targets.valid.shape)}')
        inside = targets.inside
        num_seg = targets.segment_labels.numel()
        log_w = self.anchor_log_weights(targets)  # [Q, 3]
        # [3, S] index into the inside pairs (Q where a segment has none)
        picks = torch.stack([
            sample_per_segment(log_w[:, j], inside.segment, num_seg,
                               generator) for j in range(3)])
        found = picks[0] < len(inside)
        picks = picks[:, found].reshape(-1)
        anchor_points = inside.flat_index(p)[picks]
        anchor_labels = targets.segment_labels[found].repeat(3)
        bg_idx = sample_background(targets.background, self.num_background,
                                   generator)

        feats = point_feats.reshape(b * p, d)
        embeds = self.embed(feats[torch.cat([anchor_points, bg_idx])])
        num_a = anchor_points.numel()
        loss, valid = anchor_losses(embeds[:num_a], anchor_labels,
                                    anchor_points, embeds[num_a:],
                                    self.temperature)
        if not bool(valid.any()):
            return self._connected_zero(point_feats)
        return self.loss_weight * loss.sum() / valid.sum()

    def _connected_zero(self, point_feats: Tensor) -> Tensor:
        # DDP requires every parameter to get a gradient, even a zero one.
        params = sum(p.sum() for p in self.parameters())
        return (point_feats.sum() + params).float() * 0.0
