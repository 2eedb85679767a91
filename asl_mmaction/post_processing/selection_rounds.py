"""The selections of (soft-)NMS for every group of a batch, in rounds.

The one-at-a-time procedure selects the candidate with the highest current
score, decays the others of its group, and repeats. Here a *round* selects
many at once, exactly as that procedure would:

* a candidate is **safe** when no live candidate that ranks above it now
  (higher current score; ties: lower tie rank) intersects it. Whatever the
  procedure selects before a safe candidate ranks above it, hence does not
  touch it, so a safe candidate is selected with its current score;
* so every safe candidate is selected in the same round, and each decays
  the live, unselected candidates it intersects: they all rank below it
  (one above would have made it unsafe), so the procedure selects it before
  them. Decays that meet in one candidate are multiplied together first
  (float rounding is the only difference from one-at-a-time);
* the best candidate of a group is always safe, so each round selects at
  least one per group; rounds stop when no candidate is left;
* a video keeps ``max_per_video`` selections: once it has that many above
  some score, its candidates below that score are dropped
  (:func:`cap_thresholds`), which shortens the long tail of rounds.

The number of rounds is the depth of the chains of overlapping candidates
(4-42 per batch on the EPIC-size bench, ``bench/bench_nms.py``), not the
number of selections (thousands).

Candidates are laid out sorted by (group, start), so a candidate
intersects only candidates of a contiguous *window* of positions around it
(:class:`WindowMax`): "is every other key of my window smaller" is one
range-maximum query, answered for all candidates by a sparse table in
``O(N log L)`` per round (windows up to ``L`` long), whatever the number of
intersecting pairs. A window may hold a few candidates that do not
intersect: that only delays a selection to a later round.

Two ways to run the rounds, the same selections:

* ``per_round_sync=True`` (CPU, where reading the device costs nothing):
  the finished candidates are dropped from the arrays as they pile up and
  each round visits only the windows of its picks to decay them; one or two
  host reads per round;
* ``per_round_sync=False`` (other devices): the arrays keep their size;
  the intersecting pairs are listed once (one host read) and every round
  decays along all of them, masked by the picks; the loop reads the device
  only after rounds 1, 2, 4, 8, ... (``ceil(log2 R) + 1`` reads for ``R``
  rounds; at most ``2R - 1`` rounds run, the extra ones change nothing).
"""
from dataclasses import dataclass
from typing import Tuple

import torch
from torch import Tensor

from ..structures.segment_iou import aligned_segment_iou
from .host_sync import to_host
from .segment_pairs import coordinate_ranks, expand_ranges, rank_in_run

_LOWEST = torch.iinfo(torch.int64).min


def decay_weights(iou: Tensor, method: str, iou_threshold: float,
                  sigma: float) -> Tensor:
    """Factor a candidate's score is multiplied by when a segment it
    overlaps by ``iou`` is selected.

    Args:
        iou (Tensor): ``[...]`` IoU with the selected segment.

    Returns:
        Tensor: ``[...]`` factors in ``[0, 1]``; for ``hard``, 0 means
        suppressed (whatever ``min_score``).
    """
    if method == 'soft_gaussian':
        # -(x) / s, in place: the same float as the C++ op's.
        return (iou * iou).div_(-sigma).exp_()
    overlapping = iou >= iou_threshold
    if method == 'linear':
        return torch.where(overlapping, 1 - iou, torch.ones_like(iou))
    return (~overlapping).to(iou.dtype)


class SelectionKeys:
    """Distinct int64 keys, larger for the candidate selected first: by
    current score, then lower tie rank.

    Args:
        tie_rank (Tensor): ``[N]`` int64 in ``[0, 2**32)``, distinct.
        dtype (torch.dtype): dtype of the scores.
        positive (bool): every live score is ``> 0`` (``min_score > 0``),
            which allows the shortest computation.
    """

    def __init__(self, tie_rank: Tensor, dtype: torch.dtype,
                 positive: bool) -> None:
        self.tie_rank = tie_rank
        self.low_bits = 0xFFFFFFFF - tie_rank
        self.as_float32 = dtype in (torch.float32, torch.float16,
                                    torch.bfloat16)
        self.positive = positive

    def select(self, index: Tensor) -> 'SelectionKeys':
        """The keys of the candidates at ``index``."""
        out = SelectionKeys.__new__(SelectionKeys)
        out.tie_rank = self.tie_rank.index_select(0, index)
        out.low_bits = self.low_bits.index_select(0, index)
        out.as_float32, out.positive = self.as_float32, self.positive
        return out

    def __call__(self, scores: Tensor) -> Tensor:
        """Args: scores (Tensor): ``[N]`` current scores."""
        if self.as_float32:
            # The bits of a float32 read as an int32 grow with the value
            # for non-negative floats and shrink for negative ones, where
            # flipping them restores the order (``+ 0`` turns -0 into +0,
            # which compares equal as a float).
            if scores.dtype != torch.float32:
                scores = scores.float()
            if not self.positive:
                scores = scores + 0.0
            bits = scores.view(torch.int32).long()
            if not self.positive:
                bits ^= (bits >> 31) & 0x7FFFFFFF
            return bits.mul_(1 << 32).add_(self.low_bits)
        # Other dtypes: the position in a sort by (score, -tie rank).
        by_tie = torch.argsort(self.tie_rank)
        order = by_tie[torch.argsort(scores[by_tie], descending=True,
                                     stable=True)]
        keys = torch.empty_like(self.tie_rank)
        keys[order] = torch.arange(scores.numel() - 1, -1, -1,
                                   device=scores.device)
        return keys


class WindowMax:
    """For each sorted candidate, whether its key beats every other key of
    its *window*: the positions from the first one whose forward range
    reaches it up to the end of its own forward range.

    The window holds every candidate that intersects it (and possibly a few
    that do not: a superset only delays a selection to a later round, it
    never changes one). A sparse table (the maximum of each run of ``2**l``
    positions) is rebuilt from the keys every round; the query positions
    are fixed.

    Args:
        start (Tensor): ``[N]`` window starts (:func:`window_starts`).
        end (Tensor): ``[N]`` forward-range ends
            (:func:`~.segment_pairs.forward_ranges`).
        longest (int): the longest part of a window on either side.
    """

    def __init__(self, start: Tensor, end: Tensor, longest: int) -> None:
        n = end.numel()
        position = torch.arange(n, device=end.device)
        levels = max(int(longest), 1).bit_length()
        self.table = torch.full((levels, n + 1), _LOWEST, dtype=torch.long,
                                device=end.device)
        self.first_row = self.table[0, :n]
        # Views reused every round: level l from two shifted runs of l - 1.
        self.steps = []
        for lv in range(1, levels):
            half = 1 << (lv - 1)
            valid = n - 2 * half + 1
            self.steps.append((self.table[lv - 1, :valid],
                               self.table[lv - 1, half:half + valid],
                               self.table[lv, :valid]))
        # Each query [lo, hi) is covered by the two runs of 2**level at
        # lo and hi - 2**level; an empty one reads the spare column n of
        # level 0, which stays at the lowest key.
        lo = torch.cat([start, position + 1])
        hi = torch.cat([position, end])
        length = (hi - lo).clamp(min=0)
        level = torch.frexp(length.clamp(min=1).float())[1].long() - 1
        row = level * (n + 1)
        empty = length == 0
        self.index = torch.cat([
            torch.where(empty, n, row + lo),
            torch.where(empty, n, row + hi - (1 << level))
        ])
        self.flat = self.table.view(-1)
        self.size = n

    def beats_window(self, keys: Tensor) -> Tensor:
        """``[N]`` bool: every other key of the window is smaller."""
        self.first_row.copy_(keys)
        for a, b, out in self.steps:
            torch.maximum(a, b, out=out)
        window = self.flat.index_select(0, self.index)
        return window.view(4, self.size).amax(dim=0) < keys


def window_starts(end: Tensor) -> Tensor:
    """``[N]`` first position whose forward range reaches each position
    (the position itself when none does)."""
    n = end.numel()
    # Ranges never cross groups, so the running maximum of the ends says
    # how far each prefix reaches; the first position reaching ``i`` is
    # the number of prefixes that reach no further than ``i``.
    reach = torch.cummax(end, dim=0).values
    reaching_before = torch.cumsum(torch.bincount(reach, minlength=n + 1),
                                   0)
    return torch.minimum(reaching_before[:n],
                         torch.arange(n, device=end.device))


@dataclass
class DecayRule:
    """What a selection does to the candidates it overlaps."""
    method: str
    iou_threshold: float
    sigma: float
    min_score: float

    def weights(self, first: Tensor, second: Tensor) -> Tensor:
        """Decay factors between aligned ``[K, 2]`` segments."""
        return decay_weights(aligned_segment_iou(first, second), self.method,
                             self.iou_threshold, self.sigma)


def cap_thresholds(scores: Tensor, video: Tensor, num_videos: int,
                   cap: int) -> Tensor:
    """``[num_videos]``: the ``cap``-th best of each video's ``scores``
    (``-inf`` for a video with fewer). No host sync.

    Once a video has ``cap`` selections scoring above ``t``, a candidate
    of that video whose current score is below ``t`` can neither be kept
    nor change a kept one (it only ever decays candidates selected after
    it, which score no more), so the rounds drop it.
    """
    best_first = video * (1 << 32) + (0xFFFFFFFF - coordinate_ranks(scores))
    order = torch.argsort(best_first)
    sorted_video = video.index_select(0, order)
    is_cap = rank_in_run(sorted_video) == cap - 1
    out = torch.full((num_videos, ), float('-inf'), dtype=scores.dtype,
                     device=scores.device)
    return out.scatter_reduce_(
        0, sorted_video,
        scores.index_select(0, order).masked_fill(~is_cap, float('-inf')),
        'amax')


def select_in_rounds(segs: Tensor, scores: Tensor, tie_rank: Tensor,
                     end: Tensor, video: Tensor, rule: DecayRule,
                     max_per_video: int, num_videos: int,
                     per_round_sync: bool) -> Tuple[Tensor, Tensor, int]:
    """Run the rounds (module doc).

    Args:
        segs (Tensor): ``[N, 2]`` candidates sorted by (group, start).
        scores (Tensor): ``[N]`` their scores (all ``>= min_score``).
        tie_rank (Tensor): ``[N]`` int64, distinct: among equal scores the
            lower rank is selected first.
        end (Tensor): ``[N]`` forward-range ends
            (:func:`~.segment_pairs.forward_ranges`).
        video (Tensor): ``[N]`` video of each candidate, for the cap.
        rule (DecayRule): the method and its parameters.
        max_per_video (int): selections kept per video (see
            :func:`cap_thresholds`).
        num_videos (int): number of videos.
        per_round_sync (bool): the CPU way (module doc) or the other one.

    Returns:
        tuple: ``picked [S]`` (sorted positions of the selected
        candidates; with the cap, those that may be kept), ``scores [S]``
        (the score of each when selected) and the number of rounds.
    """
    keys = SelectionKeys(tie_rank, scores.dtype, rule.min_score > 0)
    run = _rounds_compacting if per_round_sync else _rounds_fixed_size
    return run(segs, scores, keys, end, video, rule, max_per_video,
               num_videos)


class _Layout:
    """The live candidates in (group, start) order, with their windows."""

    def __init__(self, entry, segs, current, keys, video, start, end):
        self.entry, self.segs, self.current = entry, segs, current
        self.keys, self.video, self.start, self.end = keys, video, start, end
        position = torch.arange(end.numel(), device=end.device)
        longest = to_host(
            torch.maximum(end - position, position - start).max(),
            'longest window')
        self.window = WindowMax(start, end, longest)

    def keep(self, alive: Tensor) -> '_Layout':
        """The layout of the ``alive`` ones; windows shrink with it."""
        before = torch.zeros(alive.numel() + 1, dtype=torch.long,
                             device=alive.device)
        torch.cumsum(alive, 0, out=before[1:])
        index = torch.nonzero(alive).squeeze(1)

        def take(x):
            return x.index_select(0, index)

        return _Layout(take(self.entry), take(self.segs), take(self.current),
                       self.keys.select(index), take(self.video),
                       before.index_select(0, take(self.start)),
                       before.index_select(0, take(self.end)))


def _rounds_compacting(segs, scores, keys, end, video, rule, cap,
                       num_videos):
    n, device = scores.numel(), scores.device
    # With min_score > 0, a zero score marks the done candidates: no mask
    # needs updating, and their keys are below every live one.
    positive = rule.min_score > 0
    picks, picked_scores, picked_videos = [], [], []
    per_video = torch.zeros(num_videos, dtype=torch.long, device=device)
    live = _Layout(torch.arange(n, device=device), segs, scores, keys, video,
                   window_starts(end), end)
    alive = torch.ones(n, dtype=torch.bool, device=device)
    num_alive, rounds, refresh_at, floor = n, 0, 0, None
    while True:
        rounds += 1
        current, size = live.current, alive.numel()
        key = live.keys(current)
        if num_alive < size and not positive:
            key.masked_fill_(~alive, _LOWEST)
        pick = live.window.beats_window(key)
        if num_alive < size:
            pick &= alive
        picked = torch.nonzero(pick).squeeze(1)
        # A pick decays the candidates of its window (by 1 those it does
        # not intersect; itself too, but it is done).
        lo = live.start.index_select(0, picked)
        owner, target = expand_ranges(
            picked, lo, live.end.index_select(0, picked) - lo)
        factor = torch.ones_like(current).scatter_reduce_(
            0, target, rule.weights(live.segs.index_select(0, owner),
                                    live.segs.index_select(0, target)),
            'prod')
        picks.append(live.entry.index_select(0, picked))
        picked_scores.append(current.index_select(0, picked))
        picked_videos.append(live.video.index_select(0, picked))
        per_video += torch.bincount(picked_videos[-1], minlength=num_videos)
        if positive:
            live.current = current = current * factor.index_fill_(
                0, picked, 0)
            alive = current >= rule.min_score
        else:
            live.current = current = current * factor
            alive &= current >= rule.min_score
            alive &= ~pick
            if rule.method == 'hard':
                alive &= factor > 0
        if floor is not None:
            alive &= current >= floor
        num_alive, most, total = to_host(
            torch.stack([alive.sum(), per_video.max(), per_video.sum()]),
            'selection round')
        # The cap thresholds only rise: refresh them when the selections
        # have grown by a quarter, apply the last ones every round.
        if num_alive and most >= cap and total >= refresh_at:
            refresh_at = total + total // 4
            threshold = cap_thresholds(torch.cat(picked_scores),
                                       torch.cat(picked_videos), num_videos,
                                       cap)
            floor = threshold.index_select(0, live.video)
            alive &= current >= floor
            num_alive = to_host(alive.sum(), 'cap')
        if num_alive == 0:
            return torch.cat(picks), torch.cat(picked_scores), rounds
        # Dropping the done ones costs a new layout: worth it when many.
        if 2 * num_alive <= size and size - num_alive >= 1024:
            if floor is not None:
                floor = floor[alive]
            live = live.keep(alive)
            alive = torch.ones(num_alive, dtype=torch.bool, device=device)


def _rounds_fixed_size(segs, scores, keys, end, video, rule, cap,
                       num_videos):
    n, device = scores.numel(), scores.device
    position = torch.arange(n, device=device)
    ahead = (end - position - 1).clamp(min=0)
    start = window_starts(end)
    num_pairs, longest = to_host(torch.stack([
        ahead.sum(), torch.maximum(end - position, position - start).max()
    ]), 'pair count')
    window = WindowMax(start, end, longest)
    first, second = expand_ranges(position, position + 1, ahead, num_pairs)
    weight = rule.weights(segs.index_select(0, first),
                          segs.index_select(0, second))
    no_decay = torch.ones_like(weight)
    alive = torch.ones(n, dtype=torch.bool, device=device)
    final = torch.full_like(scores, float('-inf'))
    current = scores
    rounds = 0
    while True:
        rounds += 1
        pick = alive & window.beats_window(
            keys(current).masked_fill_(~alive, _LOWEST))
        # Of two intersecting candidates at most one is picked.
        factor = torch.ones_like(current).scatter_reduce_(
            0, second, torch.where(pick.index_select(0, first), weight,
                                   no_decay), 'prod')
        factor.scatter_reduce_(
            0, first, torch.where(pick.index_select(0, second), weight,
                                  no_decay), 'prod')
        final = torch.where(pick, current, final)
        current = current * factor
        alive &= ~pick & (current >= rule.min_score)
        if rule.method == 'hard':
            alive &= factor > 0
        if rounds & (rounds - 1) == 0:  # 1, 2, 4, 8, ...
            threshold = cap_thresholds(final, video, num_videos, cap)
            alive &= current >= threshold.index_select(0, video)
            selected = final > float('-inf')
            left, num_selected = to_host(
                torch.stack([alive.sum(), selected.sum()]), 'selection round')
            if left == 0:
                picked = torch.nonzero_static(selected,
                                              size=num_selected).squeeze(1)
                return picked, final.index_select(0, picked), rounds
