"""Video-level multi-label loss of the authors' released code (their
"label-involved" ``al_loss``, weight 0.2 in the Ego4D configs).

Every point's logits go through a softmax over the classes; the video's
score of class ``k`` is the largest probability of ``k`` over its valid
points; a binary cross-entropy then asks that score to be high for the
classes occurring in the video and low for the others. Dense focal loss only
sees points, this sees which classes a video contains.

Differences from the released code, both to avoid invalid values: padded
points are left out of the max (the released code gives them logits -1e7,
whose softmax is uniform, so every class scored at least 1/K), and
probabilities are clamped to ``[eps, 1 - eps]`` before the logs.
"""
from torch import Tensor
from mmaction.registry import MODELS

from ..heads.plugins import BaseVideoLoss
from ..task_modules.dense_targets import DenseTargets


@MODELS.register_module()
class VideoMultiLabelLoss(BaseVideoLoss):
    """BCE between per-video max-over-points softmax scores and the
    multi-hot labels of the video.

    Args:
        loss_weight (float): Multiplier. Defaults to 0.2.
        eps (float): Probability clamp. Defaults to 1e-6.
    """

    def __init__(self, loss_weight: float = 0.2, eps: float = 1e-6) -> None:
        super().__init__()
        self.loss_weight = loss_weight
        self.eps = eps

    def forward(self, cls_logits: Tensor, targets: DenseTargets,
                avg_factor: float) -> Tensor:
        """See :class:`BaseVideoLoss`; :meth:`video_bce` does the work."""
        return self.video_bce(cls_logits, targets.valid,
                              targets.video_labels, avg_factor)

    def video_bce(self, cls_logits: Tensor, valid_mask: Tensor,
                  video_labels: Tensor, avg_factor: float) -> Tensor:
        """
        Args:
            cls_logits (Tensor): ``[B, P, K]`` logits of all points.
            valid_mask (BoolTensor): ``[B, P]`` unpadded points.
            video_labels (Tensor): ``[B, K]`` multi-hot classes present in
                each video.
            avg_factor (float): Divides the summed BCE (the released code
                passes its loss normaliser, the EMA of the number of
                positive points).

        Returns:
            Tensor: scalar times ``loss_weight``. With ``K == 1`` the
            softmax is constant, so the loss is a zero still connected to
            ``cls_logits``.
        """
        b, p, k = cls_logits.shape
        if tuple(valid_mask.shape) != (b, p) or \
                tuple(video_labels.shape) != (b, k):
            raise ValueError(
                f'VideoMultiLabelLoss: cls_logits {tuple(cls_logits.shape)}, '
                f'valid_mask {tuple(valid_mask.shape)}, video_labels '
                f'{tuple(video_labels.shape)}; expected [B, P, K], [B, P], '
                f'[B, K]')
        if k == 1:
            return cls_logits.sum() * 0.0
        log_prob = cls_logits.float().log_softmax(dim=-1)
        log_prob = log_prob.masked_fill(~valid_mask[..., None], float('-inf'))
        score = log_prob.max(dim=1).values.exp()  # [B, K]
        score = score.clamp(self.eps, 1 - self.eps)
        target = video_labels.float()
        bce = -(target * score.log() + (1 - target) * (1 - score).log())
        has_points = valid_mask.any(dim=1)  # a video with none gives nothing
        total = (bce * has_points[:, None]).sum()
        return self.loss_weight * total / avg_factor
