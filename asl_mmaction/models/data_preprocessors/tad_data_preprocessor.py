"""Batch variable-length feature sequences for the detector."""
import math
from typing import List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.model import BaseDataPreprocessor
from mmaction.registry import MODELS


@MODELS.register_module()
class ASLDataPreprocessor(BaseDataPreprocessor):
    """Pad ``[C, T_i]`` features into ``[B, C, T]`` and build validity masks.

    Every batch is padded to its longest sequence rounded up to a multiple of
    ``pad_divisor`` (the coarsest stride of the pyramid, so every level has
    an integer length). Training sequences must fit ``max_seq_len`` (the
    crop transform cuts longer videos). ActionFormer pads every training
    batch to ``max_seq_len``; the model here is padding-invariant (a video's
    outputs on its valid steps do not depend on how much padding follows),
    so the losses are the same either way and the shorter batches simply
    cost less: on EPIC-Kitchens' video lengths about half the steps of
    ``max_seq_len`` (``bench/bench_train_step.py``). ``pad_train_to_max``
    restores ActionFormer's fixed shape, e.g. for ``torch.compile`` without
    dynamic shapes.

    Args:
        max_seq_len (int): Longest training sequence. Defaults to 2304.
        pad_divisor (int, optional): Lengths are rounded up to a multiple of
            it. None (default): ``ASLDetector`` sets it to its backbone's
            total stride.
        pad_value (float): Value written in padded positions.
        pad_train_to_max (bool): Pad every training batch to
            ``max_seq_len``, as ActionFormer. Defaults to False.
    """

    def __init__(self, max_seq_len: int = 2304,
                 pad_divisor: Optional[int] = None,
                 pad_value: float = 0.0,
                 pad_train_to_max: bool = False) -> None:
        super().__init__()
        self.max_seq_len = max_seq_len
        self.pad_divisor = None
        self.pad_value = pad_value
        self.pad_train_to_max = pad_train_to_max
        if pad_divisor is not None:
            self.set_pad_divisor(pad_divisor)

    def set_pad_divisor(self, pad_divisor: int) -> None:
        """Round inference lengths up to multiples of ``pad_divisor``."""
        if pad_divisor < 1 or self.max_seq_len % pad_divisor:
            raise ValueError(f'max_seq_len ({self.max_seq_len}) must be a '
                             f'multiple of pad_divisor ({pad_divisor}), the '
                             'total stride of the backbone')
        self.pad_divisor = int(pad_divisor)

    def padded_length(self, lengths: Sequence[int], training: bool) -> int:
        """Length ``T`` of the padded batch for sequences of ``lengths``."""
        longest = max(lengths)
        if training:
            if longest > self.max_seq_len:
                raise ValueError(
                    f'a training sequence has {longest} steps, more than '
                    f'max_seq_len={self.max_seq_len}: add RandomTemporalCrop '
                    'to the training pipeline')
            if self.pad_train_to_max:
                return self.max_seq_len
        divisor = self.pad_divisor or 1
        return max(divisor, math.ceil(longest / divisor) * divisor)

    def forward(self, data: dict, training: bool = False) -> dict:
        """
        Args:
            data (dict): ``inputs``: list of ``Tensor[C, T_i]``;
                ``data_samples``: list of data samples (optional).

        Returns:
            dict: ``inputs`` ``Tensor[B, C, T]``, ``masks``
            ``BoolTensor[B, 1, T]`` (True at real steps), ``data_samples``.
        """
        data = self.cast_data(data)
        inputs: List[torch.Tensor] = data['inputs']
        if isinstance(inputs, torch.Tensor):  # already batched [B, C, T]
            inputs = list(inputs)
        lengths = [x.shape[-1] for x in inputs]
        total = self.padded_length(lengths, training)
        batch = torch.stack([
            F.pad(x.float(), (0, total - x.shape[-1]), value=self.pad_value)
            for x in inputs
        ])
        steps = torch.arange(total, device=batch.device)
        lengths_t = torch.as_tensor(lengths, device=batch.device)
        masks = (steps[None, :] < lengths_t[:, None]).unsqueeze(1)
        return dict(inputs=batch, masks=masks,
                    data_samples=data.get('data_samples', None))
