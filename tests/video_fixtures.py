"""Short videos written by the tests (OpenCV ``VideoWriter``) and tiny
MMAction2 recognizer configs with random weights.

Frame ``j`` of a generated video is a flat grey of value ``GREY_STEP * j``
(mod 256) with a coloured square moving across it, so that tests can tell
which frames a clip was built from (``frame_index_of``) even after lossy
encoding.
"""
import json
import textwrap
from pathlib import Path
from typing import Dict, Optional, Sequence

import cv2
import numpy as np
import torch

GREY_STEP = 3
SIZE = (64, 48)  # (width, height): tiny, and a size decord decodes


def write_video(path: Path, num_frames: int, fps: float = 30.0,
                size=SIZE, fourcc: str = 'mp4v', square: bool = True) -> Path:
    """A video of ``num_frames`` frames; frame ``j`` is grey
    ``GREY_STEP * j % 256``, with a moving square (top-left quarter) unless
    ``square`` is False."""
    width, height = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps,
                             (width, height))
    if not writer.isOpened():
        raise RuntimeError(f'OpenCV cannot write {path} with {fourcc}')
    for j in range(num_frames):
        frame = np.full((height, width, 3), (GREY_STEP * j) % 256, np.uint8)
        if square:
            x = (2 * j) % (width // 2)
            frame[2:8, x:x + 6] = (0, 0, 255)
        writer.write(frame)
    writer.release()
    return path


def frame_index_of(grey: float) -> int:
    """Frame index of a generated frame from its grey value (frames with
    index below 256 / GREY_STEP)."""
    return int(round(grey / GREY_STEP))


def write_actionformer_json(path: Path, videos: Dict[str, dict],
                            classes: Sequence[str]) -> Path:
    """ActionFormer-layout annotations: ``videos[name]`` has ``subset``,
    ``duration``, ``fps`` and ``segments`` as ``[(start, end, label_id)]``."""
    database = {}
    for name, video in videos.items():
        database[name] = dict(
            subset=video['subset'], duration=video['duration'],
            fps=video['fps'],
            annotations=[dict(segment=[s, e], label=classes[c], label_id=c)
                         for s, e, c in video['segments']])
    path.write_text(json.dumps(dict(database=database)))
    return path


# ------------------------------------------------------------- recognizers
X3D_TINY = dict(type='X3D', gamma_w=0.1, gamma_b=1.0, gamma_d=0.25)
X3D_TINY_CHANNELS = 64
VIT_TINY = dict(type='VisionTransformer', img_size=32, patch_size=16,
                embed_dims=32, depth=1, num_heads=2, num_frames=4,
                tubelet_size=2, mlp_ratio=2)
VIT_TINY_CHANNELS = 32


def recognizer_config_text(backbone: dict, channels: int, clip_len: int = 4,
                           frame_interval: int = 2, decoder: str = 'Decord',
                           crop: int = 32, two_d: bool = False,
                           extra: str = '') -> str:
    """An MMAction2 recognizer config in the model zoo's shape (multi-clip,
    three-crop test pipeline), with a tiny backbone; ``two_d``: a 2-D
    recognizer (TSN style, frames in the batch, ``NCHW``)."""
    kind, head, fmt = (('Recognizer2D', 'TSNHead', 'NCHW') if two_d else
                       ('Recognizer3D', 'I3DHead', 'NCTHW'))
    return textwrap.dedent(f"""\
        model = dict(
            type='{kind}',
            backbone={backbone!r},
            cls_head=dict(type='{head}', in_channels={channels},
                          num_classes=5, average_clips='prob'),
            data_preprocessor=dict(
                type='ActionDataPreprocessor', mean=[114.75] * 3,
                std=[57.375] * 3, format_shape='{fmt}'))
        test_pipeline = [
            dict(type='{decoder}Init'),
            dict(type='SampleFrames', clip_len={clip_len},
                 frame_interval={frame_interval}, num_clips=10,
                 test_mode=True),
            dict(type='{decoder}Decode'),
            dict(type='Resize', scale=(-1, {crop + 4})),
            dict(type='ThreeCrop', crop_size={crop}),
            dict(type='FormatShape', input_format='{fmt}'),
            dict(type='PackActionInputs'),
        ]
        test_dataloader = dict(
            batch_size=1, num_workers=0,
            dataset=dict(type='VideoDataset', ann_file='', data_prefix={{}},
                         pipeline=test_pipeline, test_mode=True))
        default_scope = 'mmaction'
        """) + textwrap.dedent(extra)


def write_recognizer(folder: Path, backbone: dict = X3D_TINY,
                     channels: int = X3D_TINY_CHANNELS,
                     name: str = 'tiny_recognizer', seed: int = 0,
                     **kwargs) -> Dict[str, str]:
    """A recognizer config and a checkpoint of its random weights (the file
    a user would download), as MMAction2 saves them (``state_dict`` +
    ``meta``)."""
    from mmengine.config import Config
    from mmaction.registry import MODELS
    cfg_path = folder / f'{name}.py'
    cfg_path.write_text(recognizer_config_text(backbone, channels, **kwargs))
    torch.manual_seed(seed)
    model = MODELS.build(Config.fromfile(str(cfg_path)).model)
    ckpt = folder / f'{name}.pth'
    torch.save(dict(state_dict=model.state_dict(),
                    meta=dict(mmaction_version='1.1.0')), ckpt)
    return dict(config=str(cfg_path), checkpoint=str(ckpt))


def num_steps(num_frames: int, stride: int, window: int) -> int:
    return max(1, (num_frames - window) // stride + 1)


def load_sidecar(path: Path) -> Optional[dict]:
    side = Path(str(path) + '.json')
    return json.loads(side.read_text()) if side.exists() else None


SLOWFAST_TINY = dict(
    type='ResNet3dSlowFast', resample_rate=4, speed_ratio=4, channel_ratio=8,
    slow_pathway=dict(type='resnet3d', depth=18, pretrained=None,
                      lateral=True, base_channels=16, conv1_kernel=(1, 7, 7),
                      dilations=(1, 1, 1, 1), conv1_stride_t=1,
                      pool1_stride_t=1, inflate=(0, 0, 1, 1)),
    fast_pathway=dict(type='resnet3d', depth=18, pretrained=None,
                      lateral=False, base_channels=2, conv1_kernel=(5, 7, 7),
                      conv1_stride_t=1, pool1_stride_t=1))
SLOWFAST_TINY_CHANNELS = 128 + 16  # slow + fast, concatenated
SWIN_TINY = dict(type='SwinTransformer3D', pretrained2d=False,
                 arch=dict(embed_dims=16, depths=[1, 1], num_heads=[1, 1]),
                 patch_size=(2, 4, 4), window_size=(2, 4, 4),
                 out_indices=(1, ))
SWIN_TINY_CHANNELS = 32
