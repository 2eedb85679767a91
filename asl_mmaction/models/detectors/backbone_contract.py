"""Build-time check of the detector's backbone contract.

The detector calls ``backbone(x, mask)`` with ``x [B, C, T]`` features and
``mask [B, 1, T]`` and expects a tuple of per-level ``(feats, masks)``. A
module whose ``forward`` cannot take those two arguments (an MMAction2
video backbone such as ``ResNet3d``, whose ``forward(x)`` takes clips
``[N, 3, T, H, W]``) would only fail at the first iteration with a bare
``TypeError``; this check fails when the model is built, naming the adapter.
"""
import inspect

import torch.nn as nn

ADAPTER_HINT = (
    "To put an MMAction2 video backbone under the ASL head, wrap it: "
    "backbone=dict(type='VideoSnippetEncoder', video_backbone=dict(type="
    "'{name}', ...), temporal_backbone=dict(type='ConvTransformerBackbone', "
    "in_channels=<its output channels>, ...)) with a VideoTADDataset and "
    "SnippetDataPreprocessor (configs/end2end/, docs/videos.md); or extract "
    "its features once with tools/extract_features.py and train on them.")


def is_mmaction_video_backbone(module: nn.Module) -> bool:
    """True for a backbone class defined in MMAction2 itself."""
    return type(module).__module__.startswith('mmaction.models.backbones')


def check_backbone_contract(backbone: nn.Module) -> None:
    """Raise a ``TypeError`` unless ``backbone.forward`` accepts ``(x,
    mask)``.

    Raises:
        TypeError: naming the module, its ``forward`` signature and, for a
            video backbone, the adapter that makes it fit.
    """
    name = type(backbone).__name__
    try:
        signature = inspect.signature(backbone.forward)
    except (TypeError, ValueError):  # builtins / C extensions: cannot tell
        return
    try:
        signature.bind(None, None)
    except TypeError:
        pass
    else:
        return
    message = (f'ASLDetector: backbone {name} does not follow the backbone '
               f'contract forward(x [B, C, T], mask [B, 1, T]) -> (feats, '
               f'masks): its forward{signature} does not take a mask.')
    if is_mmaction_video_backbone(backbone):
        message += (f' {name} is an MMAction2 video backbone (clips [N, 3, '
                    'T, H, W] in). ' + ADAPTER_HINT.format(name=name))
    else:
        message += (" A video backbone goes inside VideoSnippetEncoder; a "
                    "1-D model must accept (x, mask) and return per-level "
                    "(feats, masks) (docs/data_contract.md).")
    raise TypeError(message)
