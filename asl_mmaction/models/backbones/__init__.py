from .conv_transformer_backbone import ConvTransformerBackbone  # noqa: F401
from .conv_backbone import ConvBackbone  # noqa: F401
