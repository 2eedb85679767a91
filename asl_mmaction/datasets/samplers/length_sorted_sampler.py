"""Evaluation order by feature length, so batches carry little padding."""
import math
from typing import Iterator, Optional

from mmengine.dist import get_dist_info
from torch.utils.data import Sampler
from mmaction.registry import DATA_SAMPLERS


@DATA_SAMPLERS.register_module()
class LengthSortedSampler(Sampler):
    """Every video once, longest first; with several processes, rank ``r``
    takes every ``world_size``-th video of that order.

    A test batch is padded to its longest video, so batching videos of
    similar length wastes little compute on padding (the detections do not
    depend on the batch: the model is padding-invariant). As MMEngine's
    ``DefaultSampler`` with ``round_up``, the list is padded with its first
    videos so every rank gets as many; the metric scores each video once.

    Args:
        dataset: A dataset with ``feature_length(index)`` (every TAD dataset
            of this package); others keep their order.
        round_up (bool): Pad to a multiple of the world size. Defaults to
            True.
        seed: Unused (the order is deterministic); accepted because MMEngine
            passes it to every sampler.
    """

    def __init__(self, dataset, round_up: bool = True,
                 seed: Optional[int] = None) -> None:
        rank, world_size = get_dist_info()
        num = len(dataset)
        if hasattr(dataset, 'feature_length'):
            lengths = [dataset.feature_length(i) for i in range(num)]
            order = sorted(range(num), key=lambda i: (-lengths[i], i))
        else:
            order = list(range(num))
        if round_up and num:
            total = math.ceil(num / world_size) * world_size
            order = (order * math.ceil(total / num))[:total]
        self.indices = order[rank::world_size]

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices)

    def __len__(self) -> int:
        return len(self.indices)

    def set_epoch(self, epoch: int) -> None:
        """Nothing to do: the order does not change (MMEngine calls it)."""
