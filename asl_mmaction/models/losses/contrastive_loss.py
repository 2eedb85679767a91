"""ASL's action-sensitive contrastive loss (ASCL).

For every ground-truth action the features at its most classification-,
start- and end-sensitive points (argmax of the class-sensitivity weights
over the action's positive points) are projected and L2-normalised. Each of
those embeddings is an anchor whose positives are the other embeddings of
the same class in the batch (the two others of its own action included) and
whose negatives are the embeddings of other classes and of background points
sampled outside every action. The classification- and boundary-sensitive
features of an action thus learn to agree, and to differ from background.

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


def argmax_per_segment(values: Tensor, ids: Tensor, num_segments: int
                       ) -> Tensor:
    """Flat index of the largest value of every segment, vectorised.

    Ties go to the lowest index, so the choice is deterministic.

    Args:
        values (Tensor): ``[N]`` scores.
        ids (LongTensor): ``[N]`` segment of each entry, -1 for none.
        num_segments (int): ``S``.

    Returns:
        LongTensor: ``[S]`` index into ``values``; ``N`` for segments
        without any entry.
    """
    n = values.numel()
    if num_segments == 0:
        return ids.new_zeros(0)
    member = ids >= 0
    safe_ids = ids.clamp_min(0)
    values = values.detach().float()
    seg_max = values.new_full((num_segments,), float('-inf')).scatter_reduce(
        0, ids[member], values[member], reduce='amax')
    best = member & (values == seg_max[safe_ids])
    flat = torch.arange(n, device=values.device)
    return flat.new_full((num_segments,), n).scatter_reduce(
        0, ids[best], flat[best], reduce='amin')


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
        LongTensor: ``[K]`` flat indices into ``B * P``.
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


def anchor_losses(anchors: Tensor, anchor_labels: Tensor, background: Tensor,
                  temperature: float) -> Tuple[Tensor, Tensor]:
    """Per-anchor InfoNCE over the action embeddings and the background.

    Args:
        anchors (Tensor): ``[A, C]`` L2-normalised action embeddings.
        anchor_labels (LongTensor): ``[A]`` class of each.
        background (Tensor): ``[G, C]`` L2-normalised background embeddings.
        temperature (float): ``tau``.

    Returns:
        tuple: ``loss [A]`` and ``valid [A]`` (anchor has a positive and a
        negative; ``loss`` is 0 elsewhere).
    """
    num_a = anchors.shape[0]
    sim = anchors @ torch.cat([anchors, background]).t() / temperature
    same = anchor_labels[:, None] == anchor_labels[None, :]
    not_self = ~torch.eye(num_a, dtype=torch.bool, device=anchors.device)
    pos = same & not_self
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
class ActionSensitiveContrastiveLoss(nn.Module):
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
    """

    def __init__(self, in_channels: int, proj_channels: int = 128,
                 temperature: float = 0.1, loss_weight: float = 0.1,
                 num_background: int = 32) -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f'temperature must be > 0, got {temperature}')
        if num_background < 0:
            raise ValueError(f'num_background must be >= 0, got '
                             f'{num_background}')
        self.in_channels = in_channels
        self.temperature = temperature
        self.loss_weight = loss_weight
        self.num_background = num_background
        self.proj = nn.Sequential(
            nn.Linear(in_channels, in_channels), nn.ReLU(inplace=True),
            nn.Linear(in_channels, proj_channels))

    def embed(self, feats: Tensor) -> Tensor:
        """``[N, D] -> [N, proj_channels]`` unit vectors (float32)."""
        return F.normalize(self.proj(feats).float(), dim=1)

    def forward(self, point_feats: Tensor, segment_ids: Tensor,
                sens_cls: Tensor, sens_start: Tensor, sens_end: Tensor,
                segment_labels: Tensor, background_mask: Tensor,
                generator: Optional[torch.Generator] = None) -> Tensor:
        """
        Args:
            point_feats (Tensor): ``[B, P, D]`` pyramid features of all
                points (levels concatenated).
            segment_ids (LongTensor): ``[B, P]`` index into
                ``segment_labels`` of the point's action, -1 where the point
                is not positive.
            sens_cls, sens_start, sens_end (Tensor): ``[B, P]`` sensitivity
                of each positive point (0 elsewhere).
            segment_labels (LongTensor): ``[S]`` class of every action.
            background_mask (BoolTensor): ``[B, P]`` valid points outside
                every action.
            generator (torch.Generator, optional): For the background draw.

        Returns:
            Tensor: scalar loss times ``loss_weight``; a zero connected to
            ``point_feats`` and the projection head when no anchor has both
            a positive and a negative.
        """
        self._check_inputs(point_feats, segment_ids,
                           (sens_cls, sens_start, sens_end), segment_labels,
                           background_mask)
        b, p, d = point_feats.shape
        feats = point_feats.reshape(b * p, d)
        ids = segment_ids.reshape(-1)
        num_seg = segment_labels.numel()

        # [3, S] flat index of each action's most sensitive points
        best = torch.stack([argmax_per_segment(s.reshape(-1), ids, num_seg)
                            for s in (sens_cls, sens_start, sens_end)])
        found = best[0] < b * p  # actions with at least one positive point
        anchor_idx = best[:, found].reshape(-1)
        anchor_labels = segment_labels[found].repeat(3)
        bg_idx = sample_background(background_mask, self.num_background,
                                   generator)

        embeds = self.embed(feats[torch.cat([anchor_idx, bg_idx])])
        loss, valid = anchor_losses(embeds[:anchor_idx.numel()],
                                    anchor_labels,
                                    embeds[anchor_idx.numel():],
                                    self.temperature)
        if not bool(valid.any()):
            return self._connected_zero(point_feats)
        return self.loss_weight * loss.sum() / valid.sum()

    def _connected_zero(self, point_feats: Tensor) -> Tensor:
        # DDP requires every parameter to get a gradient, even a zero one.
        params = sum(p.sum() for p in self.parameters())
        return (point_feats.sum() + params).float() * 0.0

    def _check_inputs(self, point_feats, segment_ids, sens, segment_labels,
                      background_mask) -> None:
        if point_feats.dim() != 3 or point_feats.shape[2] != self.in_channels:
            raise ValueError(
                f'ActionSensitiveContrastiveLoss: point_feats '
                f'{tuple(point_feats.shape)}, expected [B, P, '
                f'{self.in_channels}]')
        bp = tuple(point_feats.shape[:2])
        named = [('segment_ids', segment_ids), ('sens_cls', sens[0]),
                 ('sens_start', sens[1]), ('sens_end', sens[2]),
                 ('background_mask', background_mask)]
        for name, t in named:
            if tuple(t.shape) != bp:
                raise ValueError(f'ActionSensitiveContrastiveLoss: {name} '
                                 f'has shape {tuple(t.shape)}, expected {bp}')
        if segment_labels.dim() != 1:
            raise ValueError(f'ActionSensitiveContrastiveLoss: '
                             f'segment_labels must be [S], got '
                             f'{tuple(segment_labels.shape)}')
        if segment_ids.numel() and \
                int(segment_ids.max()) >= segment_labels.numel():
            raise ValueError(
                f'ActionSensitiveContrastiveLoss: segment id '
                f'{int(segment_ids.max())} but only '
                f'{segment_labels.numel()} segment_labels')
