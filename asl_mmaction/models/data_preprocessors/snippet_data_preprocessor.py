"""Batch the snippet frames of videos for ``VideoSnippetEncoder``."""
from typing import List, Optional, Sequence

import torch
from mmengine.model import BaseDataPreprocessor
from mmaction.registry import MODELS

from .tad_data_preprocessor import ASLDataPreprocessor


@MODELS.register_module()
class SnippetDataPreprocessor(BaseDataPreprocessor):
    """Normalise snippet frames and build the step masks.

    The masks are those of ``ASLDataPreprocessor`` (the same padded
    length: the longest video of the batch rounded up to ``pad_divisor``,
    or ``max_seq_len`` with ``pad_train_to_max`` in training), but the
    frames are *not* padded: the valid snippets of
    every video are concatenated, in (video, step) order, so padded steps
    cost no memory and never reach the video backbone (nor its BatchNorm
    statistics). Normalisation is MMAction2's ``ActionDataPreprocessor``
    (give the recognizer's ``mean`` / ``std``).

    Args:
        max_seq_len (int): Training length in steps.
        pad_divisor (int, optional): Inference lengths are rounded up to it.
            None (default): ``ASLDetector`` sets it to its backbone's total
            stride (``VideoSnippetEncoder.divisor``).
        mean, std (sequence[float] | None): Per-channel (RGB) pixel mean and
            std of the video backbone's pre-training.
        format_shape (str): ``'NCTHW'`` (the snippet layout).
        pad_train_to_max (bool): Training masks of ``max_seq_len`` steps
            (ActionFormer's fixed shape), as ``ASLDataPreprocessor``.

    Returns (``forward``):
        dict: ``inputs``: ``dict(frames=Tensor[N, 3, L, H, W] float,
        keys=list[str])`` (``N`` valid snippets; ``keys`` are
        ``'<video_name>@<step>'``, the step counted in the uncropped video,
        for the encoder's feature cache); ``masks``: ``BoolTensor[B, 1, T]``;
        ``data_samples``.
    """

    def __init__(self, max_seq_len: int = 2304,
                 pad_divisor: Optional[int] = None,
                 mean: Optional[Sequence[float]] = None,
                 std: Optional[Sequence[float]] = None,
                 format_shape: str = 'NCTHW',
                 pad_train_to_max: bool = False) -> None:
        super().__init__()
        self.steps = ASLDataPreprocessor(max_seq_len=max_seq_len,
                                         pad_divisor=pad_divisor,
                                         pad_train_to_max=pad_train_to_max)
        self.frames = MODELS.build(dict(type='ActionDataPreprocessor',
                                        mean=mean, std=std,
                                        format_shape=format_shape))

    @property
    def pad_divisor(self) -> Optional[int]:
        return self.steps.pad_divisor

    def set_pad_divisor(self, pad_divisor: int) -> None:
        """Round inference lengths up to multiples of ``pad_divisor``."""
        self.steps.set_pad_divisor(pad_divisor)

    @staticmethod
    def snippet_keys(data_samples, lengths: List[int]) -> Optional[list]:
        """``'<video>@<step>'`` of every valid snippet, None without
        metainfo."""
        if not data_samples:
            return None
        keys = []
        for sample, length in zip(data_samples, lengths):
            start = int(sample.metainfo.get('crop_start', 0))
            name = sample.metainfo['video_name']
            keys += [f'{name}@{start + t}' for t in range(length)]
        return keys

    def forward(self, data: dict, training: bool = False) -> dict:
        data = self.cast_data(data)
        snippets = data['inputs']
        if isinstance(snippets, torch.Tensor):  # already batched
            snippets = list(snippets)
        for i, clip in enumerate(snippets):
            if clip.dim() != 5:
                raise ValueError(
                    f'SnippetDataPreprocessor: sample {i} has inputs of shape '
                    f'{tuple(clip.shape)}; expected snippet frames [T, 3, '
                    'clip_len, H, W] (use PackTADSnippets; for feature '
                    'files use ASLDataPreprocessor)')
        lengths = [clip.shape[0] for clip in snippets]
        total = self.steps.padded_length(lengths, training)
        steps = torch.arange(total, device=snippets[0].device)
        lengths_t = torch.as_tensor(lengths, device=steps.device)
        masks = (steps[None, :] < lengths_t[:, None]).unsqueeze(1)
        frames, _ = self.frames.preprocess([torch.cat(snippets)], None,
                                           training)
        samples = data.get('data_samples', None)
        return dict(inputs=dict(frames=frames[0],
                                keys=self.snippet_keys(samples, lengths)),
                    masks=masks, data_samples=samples)
