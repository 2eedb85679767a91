"""Moving average of the number of positive points, ActionFormer's loss
divisor: steadier than the batch's own count, which jumps with the number
and length of the actions in it."""
import torch
import torch.distributed as dist
import torch.nn as nn
from torch import Tensor


class LossNormalizer(nn.Module):
    """EMA ``v <- m * v + (1 - m) * max(num_pos, 1)``.

    The value is a buffer, so it is saved in checkpoints and restored on
    resume.

    Distributed training: ``update`` all-reduces (sums) ``num_pos`` so that
    every rank divides by the EMA of the *global* number of positives.
    Each rank's loss is a sum over its own points only, and DDP averages
    gradients over ranks, so the head multiplies its per-rank losses by
    :meth:`world_size`. The gradient is then exactly that of one process
    seeing the whole global batch: two processes with one video each train
    like one process with both videos.

    Args:
        init (float): Initial value. Defaults to 100.
        momentum (float): EMA momentum ``m``. Defaults to 0.9.
    """

    def __init__(self, init: float = 100.0, momentum: float = 0.9) -> None:
        super().__init__()
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f'momentum must be in [0, 1), got {momentum}')
        self.momentum = momentum
        self.register_buffer('value', torch.tensor(float(init)))

    @staticmethod
    def world_size() -> int:
        if dist.is_available() and dist.is_initialized():
            return dist.get_world_size()
        return 1

    @torch.no_grad()
    def update(self, num_pos: Tensor) -> float:
        """Fold this step's positives in; returns the new divisor.

        Args:
            num_pos (Tensor): Scalar count on this rank.
        """
        num_pos = torch.as_tensor(num_pos, dtype=torch.float32,
                                  device=self.value.device).clone()
        if self.world_size() > 1:
            dist.all_reduce(num_pos, op=dist.ReduceOp.SUM)
        self.value.mul_(self.momentum).add_(
            (1 - self.momentum) * num_pos.clamp(min=1.0))
        return float(self.value)
