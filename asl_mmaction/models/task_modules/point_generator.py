"""Temporal points of a feature pyramid, the "anchors" of a dense 1-D head.

Level ``l`` has one point per feature step at time ``i * stride_l`` (in steps
of the input sequence; ActionFormer puts no half-stride offset). Each point
carries the range of segment sizes it may regress and its stride, so the
label assigner and the decoder need nothing else.
"""
from typing import Dict, Sequence, Tuple

import torch
from torch import Tensor


class PointGenerator1D:
    """Points ``(t, range_lo, range_hi, stride)`` for every pyramid level.

    Args:
        strides (Sequence[int]): Stride of each level, in input steps.
        regress_ranges (Sequence[tuple]): ``(lo, hi)`` per level: a point
            regresses a segment only if its farther boundary lies in
            ``[lo, hi]`` steps away.
    """

    def __init__(self, strides: Sequence[int] = (1, 2, 4, 8, 16, 32),
                 regress_ranges: Sequence[Tuple[float, float]] = (
                     (0, 4), (4, 8), (8, 16), (16, 32), (32, 64), (64, 1e4))
                 ) -> None:
        if len(strides) != len(regress_ranges):
            raise ValueError(f'{len(strides)} strides but '
                             f'{len(regress_ranges)} regress_ranges: give '
                             'one (lo, hi) range per pyramid level')
        for lo_hi in regress_ranges:
            if len(lo_hi) != 2 or lo_hi[0] > lo_hi[1]:
                raise ValueError(f'bad regress range {lo_hi}: expected '
                                 '(lo, hi) with lo <= hi')
        self.strides = tuple(int(s) for s in strides)
        self.regress_ranges = tuple((float(lo), float(hi))
                                    for lo, hi in regress_ranges)
        # Sequence lengths repeat (fixed max_seq_len in training, a few
        # padded lengths at test time), so the points are built once each.
        self._cache: Dict[tuple, Tensor] = {}

    @property
    def num_levels(self) -> int:
        return len(self.strides)

    def forward(self, feat_lens: Sequence[int],
                device: torch.device = None) -> Tensor:
        """Points of all levels, concatenated level after level.

        Args:
            feat_lens (Sequence[int]): ``T_l`` of each level.
            device (torch.device, optional): Where to put the points.

        Returns:
            Tensor: ``[P, 4]`` float32 with ``P = sum(T_l)``; columns are
            time (steps), regress range low, regress range high, stride.
        """
        if len(feat_lens) != self.num_levels:
            raise ValueError(f'got {len(feat_lens)} feature levels, the '
                             f'point generator has {self.num_levels}')
        key = (tuple(int(n) for n in feat_lens), str(device))
        if key not in self._cache:
            self._cache[key] = self._build(key[0]).to(device)
        return self._cache[key]

    __call__ = forward

    def _build(self, feat_lens: Tuple[int, ...]) -> Tensor:
        levels = []
        for n, stride, (lo, hi) in zip(feat_lens, self.strides,
                                       self.regress_ranges):
            t = torch.arange(n, dtype=torch.float32) * stride
            extra = torch.tensor([lo, hi, float(stride)]).expand(n, 3)
            levels.append(torch.cat([t[:, None], extra], dim=1))
        return torch.cat(levels, dim=0)
