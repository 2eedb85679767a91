"""One-stage temporal action detector: backbone -> neck -> dense head."""
from typing import Dict, List, Optional, Union

import torch
from mmengine.model import BaseModel
from mmaction.registry import MODELS

from asl_mmaction.utils.dist_utils import mean_over_ranks
from .backbone_contract import check_backbone_contract
from .length_buckets import length_buckets
from .nonfinite_guard import guard_losses


@MODELS.register_module()
class ASLDetector(BaseModel):
    """ActionFormer-style detector; ASL lives in the head's training losses.

    Args:
        backbone (dict): Any registered module with
            ``forward(x [B, C, T], mask [B, 1, T]) -> (feats, masks)``.
        head (dict): A dense head with ``loss`` / ``predict`` (``ASLHead``).
        neck (dict, optional): ``forward(feats, masks) -> (feats, masks)``.
        data_preprocessor (dict, optional): Defaults to
            ``ASLDataPreprocessor``.
        skip_nonfinite (bool): Skip batches whose loss is NaN / inf instead
            of stopping with an error (see ``nonfinite_guard.py``).
        predict_max_padding (float | str, optional): At inference, a batch
            of feature tensors runs as sub-batches of similar length, each
            cut to its longest video, so that padding adds at most this
            share of work (``length_buckets.py``; same detections, as the
            model is padding-invariant). ``'auto'`` (default): 0 on the CPU,
            where the model's cost grows with the padded length and a batch
            saves nothing else (videos of one padded length still share a
            call), 0.1 on other devices, where a batch of short videos
            costs about as much as one. None: one call on the whole batch.
    """

    def __init__(self, backbone: dict, head: dict, neck: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 skip_nonfinite: bool = False,
                 predict_max_padding: Union[float, str, None] = 'auto',
                 init_cfg: Optional[dict] = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='ASLDataPreprocessor')
        super().__init__(data_preprocessor=MODELS.build(data_preprocessor),
                         init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        check_backbone_contract(self.backbone)
        if getattr(self.data_preprocessor, 'pad_divisor', 0) is None:
            # pad to the coarsest stride: every level has an integer length
            self.data_preprocessor.set_pad_divisor(
                getattr(self.backbone, 'divisor', 1))
        self.neck = MODELS.build(neck) if neck is not None else None
        self.head = MODELS.build(head)
        self.skip_nonfinite = skip_nonfinite
        if predict_max_padding != 'auto' and predict_max_padding is not \
                None and not predict_max_padding >= 0:
            raise ValueError('ASLDetector: predict_max_padding must be >= 0, '
                             f'"auto" or None, got {predict_max_padding!r}')
        self.predict_max_padding = predict_max_padding

    def parse_losses(self, losses: Dict[str, torch.Tensor]):
        """MMEngine's total of the ``loss*`` terms, with the logged values
        averaged over processes (the total that is back-propagated is
        this rank's own)."""
        loss, log_vars = super().parse_losses(losses)
        return loss, mean_over_ranks(log_vars)

    def extract_feat(self, inputs: torch.Tensor, masks: torch.Tensor):
        """Pyramid features.

        Args:
            inputs (Tensor): ``[B, C, T]`` features.
            masks (BoolTensor): ``[B, 1, T]``.

        Returns:
            tuple: per-level ``[B, D, T_l]`` features and ``[B, 1, T_l]``
            masks.
        """
        feats, feat_masks = self.backbone(inputs, masks)
        if self.neck is not None:
            feats, feat_masks = self.neck(feats, feat_masks)
        return tuple(feats), tuple(feat_masks)

    def forward(self, inputs: torch.Tensor, data_samples: Optional[List] = None,
                mode: str = 'tensor',
                masks: Optional[torch.Tensor] = None
                ) -> Union[Dict[str, torch.Tensor], list, tuple]:
        """``loss``: dict of losses; ``predict``: data samples with
        ``pred_instances`` (seconds); ``tensor``: the head's outputs
        (``ASLHead.forward``)."""
        if masks is None:  # called without the preprocessor: all valid
            masks = inputs.new_ones((inputs.shape[0], 1, inputs.shape[-1]),
                                    dtype=torch.bool)
        if mode == 'predict' and self.predict_max_padding is not None and \
                isinstance(inputs, torch.Tensor) and inputs.dim() == 3:
            return self.predict_in_buckets(inputs, masks, data_samples)
        feats, feat_masks = self.extract_feat(inputs, masks)
        if mode == 'loss':
            losses = self.head.loss(feats, feat_masks, data_samples)
            return guard_losses(losses, list(self.parameters()),
                                data_samples, self.skip_nonfinite)
        if mode == 'predict':
            return self.head.predict(feats, feat_masks, data_samples)
        if mode == 'tensor':
            return self.head(feats, feat_masks)
        raise RuntimeError(f'Invalid mode "{mode}": use loss, predict or '
                           'tensor')

    def predict_in_buckets(self, inputs: torch.Tensor, masks: torch.Tensor,
                           data_samples: List) -> list:
        """``predict`` on sub-batches of similar length (``length_buckets``),
        each cut to its longest video; results in the input order."""
        # the last valid step + 1 (a mask with holes keeps them)
        steps_index = torch.arange(1, masks.shape[-1] + 1,
                                   device=masks.device)
        lengths = (masks[:, 0] * steps_index).amax(dim=-1).tolist()
        divisor = getattr(self.data_preprocessor, 'pad_divisor', None) or 1
        max_padding = self.predict_max_padding
        if max_padding == 'auto':
            max_padding = 0.0 if inputs.device.type == 'cpu' else 0.1
        results = [None] * len(lengths)
        for group in length_buckets(lengths, max_padding, divisor):
            longest = max(max(int(lengths[i]) for i in group), 1)
            steps = min(-(-longest // divisor) * divisor, inputs.shape[-1])
            index = torch.as_tensor(group, device=inputs.device)
            feats, feat_masks = self.extract_feat(
                inputs[index, :, :steps], masks[index, :, :steps])
            preds = self.head.predict(feats, feat_masks,
                                      [data_samples[i] for i in group])
            for i, pred in zip(group, preds):
                results[i] = pred
        return results
