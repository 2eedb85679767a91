"""Any MMAction2 video backbone as the detector's backbone.

``VideoSnippetEncoder`` turns the frames of every snippet (feature step)
into one vector with an MMAction2 video backbone (X3D, SlowFast, I3D,
VideoSwin, VideoMAE / ViT, UniFormerV2...), pools it as the feature
extraction does (``pool_snippet_features``), and runs the temporal backbone
(``ConvTransformerBackbone`` / ``ConvBackbone`` / any module with the
backbone contract) on the resulting ``[B, C, T]`` sequence. It is built
from config dicts (composition); the detector, neck and ASL head are
unchanged.
"""
import os.path as osp
from typing import Dict, Optional, Sequence, Union

import torch
from mmengine.model import BaseModule
from mmengine.runner import load_checkpoint
from torch.nn.modules.batchnorm import _BatchNorm
from torch.utils.checkpoint import checkpoint as grad_checkpoint
from mmaction.registry import MODELS

from asl_mmaction.utils import trusted_checkpoints
from .pooling import pool_snippet_features

FREEZE_MODES = ('all', 'none')


@MODELS.register_module()
class VideoSnippetEncoder(BaseModule):
    """Snippet frames -> video backbone -> one vector per step -> temporal
    backbone.

    Args:
        video_backbone (dict): An MMAction2 backbone config, e.g.
            ``dict(type='X3D', gamma_w=1, gamma_b=2.25, gamma_d=2.2)``. It
            takes ``[N, 3, clip_len, H, W]`` clips.
        temporal_backbone (dict): The detector's backbone proper, e.g.
            ``dict(type='ConvTransformerBackbone', in_channels=432, ...)``;
            ``in_channels`` must be the pooled channels of the video backbone
            (checked at the first batch).
        pretrained (str | None): Weights of the video backbone: a recognizer
            checkpoint (its ``backbone.`` entries are used) or a bare
            backbone one; path or URL, loaded by MMEngine in
            ``init_weights`` (the training runner calls it).
        freeze (str | sequence[str]): ``'all'``: the video backbone is fixed
            (eval mode, no gradients); ``'none'``: fine-tuned; or parameter
            name prefixes to fix (partial freezing, e.g. ``('conv1_s',
            'layer1')`` or ``('patch_embed', 'blocks.0.')``).
        norm_eval (bool): When fine-tuning, keep BatchNorm layers in eval
            mode (running statistics fixed). Defaults to True: the snippets
            of one batch come from a few videos, too few and too alike for
            good batch statistics.
        with_cp (bool): Gradient checkpointing over each pass of the video
            backbone (fine-tuning): activations are recomputed in the
            backward pass instead of stored.
        snippets_per_pass (int): Snippets per video-backbone call (bounds
            memory; with BatchNorm in training mode it is also the
            normalisation batch).
        cache_features (bool | None): With ``freeze='all'``, keep every
            computed snippet vector (on CPU) keyed by video and step, and
            reuse it in later iterations and epochs. None: on when frozen.
            Training and evaluation keep separate caches.
        frames_per_snippet_2d (bool): The backbone is a 2-D one (TSN / TSM
            style): frames are folded into the batch and their features
            averaged per snippet.
    """

    def __init__(self, video_backbone: dict, temporal_backbone: dict,
                 pretrained: Optional[str] = None,
                 freeze: Union[str, Sequence[str]] = 'all',
                 norm_eval: bool = True, with_cp: bool = False,
                 snippets_per_pass: int = 32,
                 cache_features: Optional[bool] = None,
                 frames_per_snippet_2d: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if isinstance(freeze, str) and freeze not in FREEZE_MODES:
            raise ValueError(f"VideoSnippetEncoder: freeze must be 'all', "
                             f"'none' or a list of parameter-name prefixes, "
                             f'got {freeze!r}')
        if cache_features and freeze != 'all':
            raise ValueError("VideoSnippetEncoder: cache_features needs "
                             "freeze='all' (a trained backbone changes its "
                             'features)')
        if snippets_per_pass < 1:
            raise ValueError('snippets_per_pass must be >= 1')
        self.video_backbone = MODELS.build(video_backbone)
        self.video_backbone_type = video_backbone.get('type', '?')
        self.temporal_backbone = MODELS.build(temporal_backbone)
        self.pretrained = pretrained
        self.freeze = freeze if isinstance(freeze, str) else tuple(freeze)
        self.norm_eval = norm_eval
        self.with_cp = with_cp
        self.snippets_per_pass = int(snippets_per_pass)
        self.cache_features = (freeze == 'all' if cache_features is None
                               else bool(cache_features))
        self.frames_per_snippet_2d = frames_per_snippet_2d
        # snippet vectors by '<video>@<step>', per mode (train / eval
        # pipelines may cut frames differently)
        self._caches: Dict[str, Dict[str, torch.Tensor]] = dict(
            train={}, eval={})
        self._apply_freeze()

    # ------------------------------------------------------------ set-up
    def _apply_freeze(self) -> None:
        if self.freeze == 'none':
            return
        matched = 0
        for name, param in self.video_backbone.named_parameters():
            if self.freeze == 'all' or name.startswith(self.freeze):
                param.requires_grad_(False)
                matched += 1
        if self.freeze != 'all' and not matched:
            names = sorted({n.split('.')[0] for n, _ in
                            self.video_backbone.named_parameters()})
            raise ValueError(f'VideoSnippetEncoder: no parameter of '
                             f'{self.video_backbone_type} starts with '
                             f'{list(self.freeze)}; its top-level modules are '
                             f'{names}')

    def init_weights(self) -> None:
        """The backbones' own initialisation, then the pretrained weights."""
        super().init_weights()
        if self.pretrained:
            # named in the config: loaded in full if the safe loader refuses
            # it (an older MMEngine checkpoint), for this load only
            local = self.pretrained if osp.isfile(self.pretrained) else None
            with trusted_checkpoints([local]):
                load_checkpoint(self.video_backbone, self.pretrained,
                                map_location='cpu', strict=False,
                                logger='current',
                                revise_keys=[(r'^module\.', ''),
                                             (r'^backbone\.', '')])
        self.clear_cache()

    def clear_cache(self) -> None:
        for cache in self._caches.values():
            cache.clear()

    def train(self, mode: bool = True):
        super().train(mode)
        if self.freeze == 'all':
            self.video_backbone.eval()
        elif mode and self.norm_eval:
            for module in self.video_backbone.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()
        return self

    @property
    def frozen(self) -> bool:
        return self.freeze == 'all'

    @property
    def divisor(self) -> int:
        """The temporal backbone's total stride (input lengths must be
        multiples of it; ``ASLDetector`` pads to it)."""
        return getattr(self.temporal_backbone, 'divisor', 1)

    # ----------------------------------------------------------- forward
    def _pass(self, frames: torch.Tensor) -> torch.Tensor:
        """``[n, 3, L, H, W]`` -> ``[n, C]`` through the video backbone."""
        per_frame = None
        if self.frames_per_snippet_2d:
            n, c, length, h, w = frames.shape
            per_frame = length
            frames = frames.permute(0, 2, 1, 3, 4).reshape(n * length, c, h,
                                                           w)
        return pool_snippet_features(self.video_backbone(frames), per_frame)

    def encode_snippets(self, frames: torch.Tensor,
                        keys: Optional[Sequence[str]] = None
                        ) -> torch.Tensor:
        """One vector per snippet.

        Args:
            frames (Tensor): ``[N, 3, L, H, W]`` normalised frames.
            keys (list[str], optional): ``N`` cache keys.

        Returns:
            Tensor: ``[N, C]``.
        """
        use_cache = self.cache_features and keys is not None
        cache = self._caches['train' if self.training else 'eval']
        todo = (list(range(len(frames))) if not use_cache else
                [i for i, k in enumerate(keys) if k not in cache])
        computed = {}
        for start in range(0, len(todo), self.snippets_per_pass):
            rows = todo[start:start + self.snippets_per_pass]
            chunk = frames[rows]
            if self.frozen:
                with torch.no_grad():
                    out = self._pass(chunk)
            elif self.with_cp and self.training and torch.is_grad_enabled():
                out = grad_checkpoint(self._pass, chunk, use_reentrant=False)
            else:
                out = self._pass(chunk)
            for row, vec in zip(rows, out):
                computed[row] = vec
        if use_cache:
            for row, vec in computed.items():
                cache[keys[row]] = vec.detach().cpu()
        device = frames.device
        vectors = [computed[i] if i in computed else
                   cache[keys[i]].to(device) for i in range(len(frames))]
        return torch.stack(vectors) if vectors else frames.new_zeros((0, 0))

    def forward(self, inputs: Union[dict, torch.Tensor], mask: torch.Tensor):
        """
        Args:
            inputs (dict | Tensor): ``dict(frames=[N, 3, L, H, W],
                keys=list | None)`` with the ``N`` valid snippets in
                (video, step) order (``SnippetDataPreprocessor``), or dense
                frames ``[B, T, 3, L, H, W]``.
            mask (BoolTensor): ``[B, 1, T]``, True at valid steps.

        Returns:
            tuple: the temporal backbone's ``(feats, masks)``.
        """
        valid = mask[:, 0]
        if isinstance(inputs, dict):
            frames, keys = inputs['frames'], inputs.get('keys')
        elif isinstance(inputs, torch.Tensor) and inputs.dim() == 6:
            frames, keys = inputs[valid], None
        else:
            raise ValueError(
                'VideoSnippetEncoder: expected snippet frames (a dict from '
                'SnippetDataPreprocessor or a [B, T, 3, L, H, W] tensor), got '
                f'{type(inputs).__name__} '
                f'{tuple(getattr(inputs, "shape", ()))}; feature files go '
                'to a temporal backbone directly')
        if frames.shape[0] != int(valid.sum()):
            raise ValueError(f'VideoSnippetEncoder: {frames.shape[0]} '
                             f'snippets for {int(valid.sum())} valid steps '
                             'in the mask')
        vectors = self.encode_snippets(frames, keys)
        expected = getattr(self.temporal_backbone, 'in_channels', None)
        if expected is not None and vectors.shape[-1] != expected:
            raise ValueError(
                f'VideoSnippetEncoder: {self.video_backbone_type} gives '
                f'{vectors.shape[-1]} channels per snippet but the temporal '
                f'backbone expects in_channels={expected}; set '
                f'temporal_backbone.in_channels={vectors.shape[-1]}')
        batch, _, length = mask.shape
        x = vectors.new_zeros((batch, length, vectors.shape[-1]))
        x[valid] = vectors.to(x.dtype)
        return self.temporal_backbone(x.transpose(1, 2).contiguous(), mask)
