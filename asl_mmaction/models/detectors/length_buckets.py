"""Split an inference batch into buckets of similar length.

A test batch is padded to its longest video, so one long video makes every
other video of the batch cost as much as it does. The detector is
padding-invariant (a video's outputs on its valid steps do not depend on
the padding after them: ``tests/test_padding_invariance.py``), so the batch
can be run as a few sub-batches, each cut to its own longest video, with
the same detections: batching then costs no padding beyond
``max_padding`` while keeping the per-call savings where lengths are close
(with ``LengthSortedSampler`` they usually are).
"""
from typing import List, Sequence


def length_buckets(lengths: Sequence[int], max_padding: float,
                   divisor: int = 1) -> List[List[int]]:
    """Group videos so that each group's padded work stays within
    ``(1 + max_padding)`` times the work of running them one by one (each
    padded to a multiple of ``divisor`` only, as at batch size 1).

    Args:
        lengths (sequence[int]): Valid steps of each video of the batch.
        max_padding (float): Largest extra share of work a group may
            cost (0: only videos of one padded length share a call).
        divisor (int): Group lengths are rounded up to multiples of it (the
            pyramid's coarsest stride), as the preprocessor pads.

    Returns:
        list[list[int]]: Indices into ``lengths``, longest first within and
        across groups; every index appears once.
    """
    if max_padding < 0:
        raise ValueError(f'max_padding must be >= 0, got {max_padding}')
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    groups: List[List[int]] = []
    padded = 0
    alone = 0  # the group's work at batch size 1
    for i in order:
        own = -(-max(int(lengths[i]), 1) // divisor) * divisor
        if groups:
            work = padded * (len(groups[-1]) + 1)
            if work <= (1 + max_padding) * (alone + own):
                groups[-1].append(i)
                alone += own
                continue
        groups.append([i])
        padded = alone = own
    return groups
