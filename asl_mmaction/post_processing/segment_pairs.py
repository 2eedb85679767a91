"""Which 1-D segments overlap, as a sparse list of index pairs.

Soft-NMS and boundary voting only ever combine segments that intersect:
two segments with an empty intersection have IoU 0, which leaves every
decay rule's weight at exactly 1. Listing the intersecting pairs once (by
sorting segments by start and searching each end among the starts) turns
the dense ``[N, N]`` IoU of a group into a few values per segment.

Segments are compared through integer keys ``(group, coordinate, kind)``
(the coordinate as an order-preserving integer), so one sort of all starts
and ends serves every group and equal coordinates compare exactly; counting
the starts before each event gives the ranges. Nothing here loops in
Python; the functions that list pairs have one host sync, for their
number.
"""
from typing import Optional, Tuple

import torch
from torch import Tensor

from .host_sync import to_host


def _dense_ranks(values: Tensor) -> Tensor:
    """Rank of each value among the distinct values (equal values, equal
    rank), in ``[0, values.numel())``."""
    sorted_values, order = torch.sort(values, stable=True)
    is_new = torch.ones_like(sorted_values, dtype=torch.bool)
    is_new[1:] = sorted_values[1:] != sorted_values[:-1]
    ranks = torch.empty_like(order)
    ranks[order] = torch.cumsum(is_new, 0) - 1
    return ranks


def expand_ranges(owner: Tensor, lo: Tensor, count: Tensor,
                  total: Optional[int] = None) -> Tuple[Tensor, Tensor]:
    """``(owner[k], p)`` for every ``p`` in ``[lo[k], lo[k] + count[k])``.

    Args:
        owner (Tensor): ``[K]`` what range ``k`` belongs to.
        lo (Tensor): ``[K]`` first position of each range.
        count (Tensor): ``[K]`` length of each range (``>= 0``).
        total (int, optional): ``count.sum()``, the number of pairs; without
            it ``repeat_interleave`` reads it from the device (an implicit
            sync: leave it out on CPU only).

    Returns:
        tuple: ``owner [total]`` and ``position [total]``.
    """
    range_of = torch.repeat_interleave(count, output_size=total)
    shift = (lo - torch.cumsum(count, 0) + count).index_select(0, range_of)
    return (owner.index_select(0, range_of),
            shift.add_(torch.arange(range_of.numel(), device=lo.device)))


def coordinate_ranks(values: Tensor) -> Tensor:
    """int64 in ``[0, 2**32)`` in the order of ``values`` (equal values,
    equal integers): the bits of float32 read as integers, flipped for
    negative floats; other dtypes are ranked by a sort."""
    if values.dtype not in (torch.float32, torch.float16, torch.bfloat16):
        return _dense_ranks(values)
    bits = (values.float() + 0.0).view(torch.int32).long()  # -0 -> +0
    return (bits ^ ((bits >> 31) & 0x7FFFFFFF)) + (1 << 31)


def rank_in_run(values: Tensor) -> Tensor:
    """Position of each element in its run of equal consecutive values."""
    n = values.numel()
    position = torch.arange(n, device=values.device)
    is_first = torch.ones(n, dtype=torch.bool, device=values.device)
    is_first[1:] = values[1:] != values[:-1]
    first = torch.cummax(torch.where(is_first, position, 0), 0).values
    return position - first


def _sort_events(groups: Tensor, coords: Tensor, kinds: Tensor) -> Tensor:
    """Order of events by (group, coordinate, kind).

    Args:
        groups (Tensor): ``[E]`` in ``[0, 2**29)``.
        coords (Tensor): ``[E]`` from :func:`coordinate_ranks`.
        kinds (Tensor): ``[E]`` in ``[0, 4)``, which event goes first at
            equal coordinates.
    """
    return torch.argsort(groups * (1 << 34) + coords * 4 + kinds, stable=True)


def forward_ranges(segments: Tensor,
                   groups: Tensor) -> Tuple[Tensor, Tensor]:
    """Sort segments by (group, start) and find, for each, the later ones
    that start before it ends.

    Args:
        segments (Tensor): ``[N, 2]`` ``(start, end)``.
        groups (Tensor): ``[N]`` group of each segment, in ``[0, 2**30)``.

    Returns:
        tuple: ``order [N]`` (sorted position ``k`` holds segment
        ``order[k]``) and ``end [N]``: the segments at sorted positions
        ``k + 1 .. end[k] - 1`` are exactly the later-starting segments of
        the same group that start before segment ``order[k]`` ends
        (``end[k] <= k + 1`` when there are none). Two segments of one
        group with a positive intersection are therefore always in one of
        these ranges, the earlier one's.
    """
    n = segments.shape[0]
    device = segments.device
    # One sort of all starts and ends (an end before a start at equal
    # coordinates): the starts come out in (group, start) order, and the
    # starts counted before a segment's end are those of earlier groups
    # and those of its group that start before it ends.
    is_start = torch.arange(2 * n, device=device) < n
    events = _sort_events(groups.repeat(2),
                          coordinate_ranks(segments.t().reshape(-1)),
                          is_start.long())
    starts_before = torch.cumsum(is_start.index_select(0, events), 0) - 1
    position = torch.empty(2 * n, dtype=torch.long, device=device)
    position.index_copy_(0, events, starts_before)
    order = torch.empty(n, dtype=torch.long, device=device)
    order.index_copy_(0, position[:n], torch.arange(n, device=device))
    # An end event is no start: the starts before it are ``position + 1``.
    end = (position[n:] + 1).index_select(0, order)
    return order, end


def intersecting_pairs(segments: Tensor,
                       groups: Tensor) -> Tuple[Tensor, Tensor]:
    """Every unordered pair of segments of one group that intersect.

    Args:
        segments (Tensor): ``[N, 2]`` ``(start, end)``.
        groups (Tensor): ``[N]`` non-negative integer group of each segment.

    Returns:
        tuple: ``first [P]`` and ``second [P]`` segment indices, each pair
        once (``first`` starts no later). Every pair with a positive
        intersection is listed; pairs that only touch a zero-length segment
        may be listed too (their IoU is 0).
    """
    order, end = forward_ranges(segments, groups)
    position = torch.arange(segments.shape[0], device=segments.device)
    count = (end - position - 1).clamp(min=0)
    first, second = expand_ranges(position, position + 1, count,
                                  to_host(count.sum(), 'pair count'))
    return order[first], order[second]


def intersecting_pairs_between(queries: Tensor, query_groups: Tensor,
                               segments: Tensor,
                               groups: Tensor) -> Tuple[Tensor, Tensor]:
    """Every ``(query, segment)`` pair of one group that intersect.

    A pair intersects when the segment starts inside the query
    (``q0 <= s0 < q1``) or the query starts strictly inside the segment
    (``s0 < q0 < s1``); the two cases are disjoint and each is a range of a
    start-sorted array, found by counting starts in one sort of all events.

    Args:
        queries (Tensor): ``[Q, 2]`` segments.
        query_groups (Tensor): ``[Q]`` their groups, in ``[0, 2**29)``.
        segments (Tensor): ``[N, 2]`` segments.
        groups (Tensor): ``[N]`` their groups.

    Returns:
        tuple: ``query_idx [P]`` and ``segment_idx [P]``; pairs with a
        positive intersection all appear, once.
    """
    num_q, n = queries.shape[0], segments.shape[0]
    device = queries.device
    # Events: query starts, query ends, segment starts, segment ends. At
    # equal coordinates: ends first, then query starts, then segment
    # starts (so "inside" means q0 <= s0 < q1 and s0 < q0 < s1).
    coords = coordinate_ranks(
        torch.cat([queries.t().reshape(-1),
                   segments.t().reshape(-1)]))
    kind = torch.cat([
        queries.new_full((num_q, ), 1, dtype=torch.long),
        queries.new_zeros((num_q, ), dtype=torch.long),
        queries.new_full((n, ), 2, dtype=torch.long),
        queries.new_zeros((n, ), dtype=torch.long)
    ])
    events = _sort_events(
        torch.cat([query_groups, query_groups, groups, groups]), coords, kind)
    is_q_start = torch.zeros_like(kind, dtype=torch.bool)
    is_q_start[:num_q] = True
    is_s_start = torch.zeros_like(is_q_start)
    is_s_start[2 * num_q:2 * num_q + n] = True
    # Starts of each kind before each event (exclusive counts).
    q_before = torch.empty_like(kind)
    q_before.index_copy_(0, events, torch.cumsum(
        is_q_start.index_select(0, events), 0))
    q_before -= is_q_start.long()
    s_before = torch.empty_like(kind)
    s_before.index_copy_(0, events, torch.cumsum(
        is_s_start.index_select(0, events), 0))
    s_before -= is_s_start.long()
    # Start-sorted orders: the position of each start among its kind.
    s_order = torch.empty(n, dtype=torch.long, device=device)
    s_order.index_copy_(0, s_before[2 * num_q:2 * num_q + n],
                        torch.arange(n, device=device))
    q_order = torch.empty(num_q, dtype=torch.long, device=device)
    q_order.index_copy_(0, q_before[:num_q],
                        torch.arange(num_q, device=device))
    lo_a, hi_a = s_before[:num_q], s_before[num_q:2 * num_q]
    lo_b = q_before[2 * num_q:2 * num_q + n]
    hi_b = q_before[2 * num_q + n:]
    count_a = (hi_a - lo_a).clamp(min=0)
    count_b = (hi_b - lo_b).clamp(min=0)
    total_a, total_b = to_host(torch.stack([count_a.sum(), count_b.sum()]),
                               'pair count')
    q_a, s_pos = expand_ranges(torch.arange(num_q, device=device), lo_a,
                               count_a, total_a)
    s_b, q_pos = expand_ranges(torch.arange(n, device=device), lo_b,
                               count_b, total_b)
    return (torch.cat([q_a, q_order.index_select(0, q_pos)]),
            torch.cat([s_order.index_select(0, s_pos), s_b]))
