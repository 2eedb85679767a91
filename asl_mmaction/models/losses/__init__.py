from .sigmoid_focal_loss import SigmoidFocalLoss  # noqa: F401
from .diou_loss_1d import DIoULoss1D  # noqa: F401
from .loss_normalizer import LossNormalizer  # noqa: F401
from .contrastive_loss import ActionSensitiveContrastiveLoss  # noqa: F401
from .video_label_loss import VideoMultiLabelLoss  # noqa: F401
