"""The snippet grid of a video and the decoding of its frames.

One *snippet* (one feature step) is a window of ``num_frames`` frames at the
grid's frame rate ``fps``; snippet ``i`` starts at frame ``i * feat_stride``,
so its centre is where ``asl_mmaction.structures`` puts feature step ``i``
(``feat_offset = 0.5 * num_frames / feat_stride``). The backbone sees
``clip_len`` frames of each window, evenly spaced: offsets
``(k * num_frames) // clip_len`` for ``k < clip_len``, which is MMAction2's
``clip_len x frame_interval`` sampling when ``num_frames = clip_len *
frame_interval``.

A video of ``N`` frames at ``fps`` has ``max(1, (N - num_frames) //
feat_stride + 1)`` snippets, the number the datasets expect
(``(duration * fps - num_frames) / feat_stride + 1``); frames past the end
repeat the last one. When ``fps`` differs from the file's own rate, grid
frame ``j`` (time ``j / fps``) is the file's frame ``floor(j * native_fps /
fps)``.

Frames are decoded by MMAction2's own transforms (``OpenCVInit`` /
``OpenCVDecode`` or ``DecordInit`` / ``DecordDecode``): the extraction tool
and the end-to-end training pipeline read videos exactly as a recognizer's
test pipeline does.
"""
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np
from mmaction.registry import TRANSFORMS

from .tad_errors import TADDataError

DECODERS = {'opencv': ('OpenCVInit', 'OpenCVDecode'),
            'decord': ('DecordInit', 'DecordDecode')}
VIDEO_SUFFIXES = ('.mp4', '.avi', '.mkv', '.mov', '.webm', '.m4v', '.mpg',
                  '.mpeg', '.flv', '.wmv')


def resolve_decoder(decoder: str = 'auto') -> str:
    """``'opencv'`` / ``'decord'``; ``'auto'`` is decord when it imports
    (faster random access), else OpenCV (always there)."""
    if decoder not in ('auto', ) + tuple(DECODERS):
        raise TADDataError(f"decoder must be 'auto', 'opencv' or 'decord', "
                           f'got {decoder!r}')
    if decoder == 'opencv':
        return decoder
    try:
        import decord  # noqa: F401
    except ImportError as exc:
        if decoder == 'auto':
            return 'opencv'
        raise TADDataError("decoder='decord' needs `pip install decord`; "
                           "decoder='opencv' works without it") from exc
    return 'decord'


@dataclass(frozen=True)
class SnippetGrid:
    """Where the snippets of a video lie (frames at ``fps``).

    Args:
        feat_stride (int): Frames between two snippet starts.
        num_frames (int): Frames spanned by one snippet (the window).
        clip_len (int): Frames of the window given to the backbone.
        fps (float | None): Frame rate of the grid; None keeps each video's
            own rate.
    """

    feat_stride: int
    num_frames: int
    clip_len: int
    fps: Optional[float] = None

    def __post_init__(self):
        for name in ('feat_stride', 'num_frames', 'clip_len'):
            value = getattr(self, name)
            if int(value) != value or value < 1:
                raise TADDataError(f'{name} must be a positive integer, '
                                   f'got {value!r}')
        if self.clip_len > self.num_frames:
            raise TADDataError(f'clip_len ({self.clip_len}) cannot exceed '
                               f'the window num_frames ({self.num_frames})')
        if self.fps is not None and not self.fps > 0:
            raise TADDataError(f'fps must be positive, got {self.fps!r}')

    def frame_offsets(self) -> np.ndarray:
        """``int64 [clip_len]``: frames of a window given to the backbone."""
        return (np.arange(self.clip_len) * int(self.num_frames)) // int(
            self.clip_len)

    def grid_fps(self, native_fps: float) -> float:
        return float(self.fps if self.fps is not None else native_fps)

    def num_grid_frames(self, native_frames: int, native_fps: float) -> int:
        """Frames of the video at the grid's rate."""
        if self.fps is None:
            return int(native_frames)
        return max(1, int(np.floor(native_frames * self.fps / native_fps
                                   + 1e-6)))

    def num_steps(self, native_frames: int, native_fps: float) -> int:
        """Snippets of a video of ``native_frames`` frames."""
        frames = self.num_grid_frames(native_frames, native_fps)
        if frames < self.num_frames:
            return 1
        return (frames - int(self.num_frames)) // int(self.feat_stride) + 1

    def native_frame_indices(self, steps: Sequence[int], native_frames: int,
                             native_fps: float) -> np.ndarray:
        """``int64 [S, clip_len]``: the file's frame indices of ``steps``."""
        frames = self.num_grid_frames(native_frames, native_fps)
        steps = np.asarray(steps, dtype=np.int64).reshape(-1, 1)
        grid = steps * int(self.feat_stride) + self.frame_offsets()[None]
        grid = np.minimum(grid, frames - 1)
        if self.fps is not None:
            grid = np.floor(grid * native_fps / self.fps + 1e-6).astype(
                np.int64)
        return np.clip(grid, 0, native_frames - 1)

    @classmethod
    def from_feat_cfg(cls, feat_cfg: dict, fps: Optional[float]):
        """The grid of a dataset's ``feat_cfg`` (``feat_stride``,
        ``num_frames``, ``clip_len``) at ``fps``."""
        return cls(feat_stride=int(feat_cfg['feat_stride']),
                   num_frames=int(feat_cfg['num_frames']),
                   clip_len=int(feat_cfg['clip_len']), fps=fps)

    def as_dict(self) -> dict:
        return dict(feat_stride=int(self.feat_stride),
                    num_frames=int(self.num_frames),
                    clip_len=int(self.clip_len), fps=self.fps)


class VideoFrameReader:
    """Frames of one video file, decoded with MMAction2's transforms.

    Args:
        path (str): The video file.
        decoder (str): ``'opencv'``, ``'decord'`` or ``'auto'``.

    Attributes:
        num_frames (int), fps (float), duration (float, seconds).

    Raises:
        TADDataError: the file is missing or cannot be opened / has no
            frames (the message names it).
    """

    def __init__(self, path: str, decoder: str = 'auto') -> None:
        self.path = path
        self.decoder = resolve_decoder(decoder)
        init_type, decode_type = DECODERS[self.decoder]
        self._decode = TRANSFORMS.build(dict(type=decode_type))
        import os.path as osp
        if not osp.isfile(path):
            raise TADDataError(f'video not found: {path}')
        try:
            opened = TRANSFORMS.build(dict(type=init_type))(
                dict(filename=path))
        except Exception as exc:  # corrupt container, unknown codec, ...
            raise TADDataError(f'cannot open video {path} ({self.decoder}): '
                               f'{type(exc).__name__}: {exc}') from exc
        self._reader = opened['video_reader']
        self.num_frames = int(opened['total_frames'])
        fps = opened.get('avg_fps') or getattr(self._reader, 'fps', None)
        if self.num_frames < 1 or not fps or not np.isfinite(fps) or fps <= 0:
            raise TADDataError(f'cannot decode video {path}: {self.num_frames}'
                               f' frames at fps {fps!r} ({self.decoder})')
        self.fps = float(fps)
        self.duration = self.num_frames / self.fps

    def read(self, indices: np.ndarray) -> List[np.ndarray]:
        """RGB ``uint8 [H, W, 3]`` frames at the sorted, unique ``indices``.

        OpenCV seeks (decoding from the previous key frame) at every jump,
        so with it the whole range is decoded in order and the asked frames
        picked out; decord seeks efficiently on its own.
        """
        indices = np.asarray(indices, dtype=np.int64)
        if not len(indices):
            return []
        wanted = indices
        if self.decoder == 'opencv':
            wanted = np.arange(indices[0], indices[-1] + 1)
        try:
            out = self._decode(dict(video_reader=self._reader,
                                    frame_inds=wanted.copy(),
                                    filename=self.path))
        except Exception as exc:
            raise TADDataError(
                f'cannot decode frames {int(indices[0])}-{int(indices[-1])} '
                f'of video {self.path} ({self.decoder}): '
                f'{type(exc).__name__}: {exc}') from exc
        frames = out['imgs']
        if len(frames) != len(wanted):
            raise TADDataError(f'video {self.path}: asked for {len(wanted)} '
                               f'frames, the decoder gave {len(frames)}')
        if self.decoder == 'opencv':
            frames = [frames[i] for i in indices - indices[0]]
        return list(frames)


def apply_frame_transforms(frames: List[np.ndarray],
                           transforms: Optional[Callable]) -> List[np.ndarray]:
    """Run MMAction2 frame transforms (``Resize``, ``CenterCrop``,
    ``Flip``...) once over ``frames`` (so random ones draw one set of
    parameters for all of them); returns the new frames."""
    if transforms is None or not frames:
        return frames
    shape = frames[0].shape[:2]
    results = transforms(dict(imgs=list(frames), img_shape=shape,
                              original_shape=shape, modality='RGB',
                              num_clips=1, clip_len=len(frames)))
    return list(results['imgs'])


class SnippetFrameSource:
    """The frames of chosen snippets of one video, with the frame
    transforms applied.

    Args:
        reader (VideoFrameReader): The opened video.
        grid (SnippetGrid): The snippet grid.
        transforms (callable, optional): MMAction2 frame transforms
            (a ``Compose``), applied to decoded frames.
        chunk_frames (int | None): Decode and transform at most this many
            frames at a time (bounds the memory of full-resolution frames;
            only for deterministic transforms, such as a test pipeline's).
            None: all frames of a call at once, so random transforms draw
            the same parameters for every snippet of the call.
        keep_cache (bool): Keep transformed frames between calls, so that
            overlapping windows of consecutive calls (steps in increasing
            order, as the extraction walks a video) decode each frame once.
    """

    def __init__(self, reader: VideoFrameReader, grid: SnippetGrid,
                 transforms: Optional[Callable] = None,
                 chunk_frames: Optional[int] = None,
                 keep_cache: bool = False) -> None:
        self.reader = reader
        self.grid = grid
        self.transforms = transforms
        self.chunk_frames = chunk_frames
        self.keep_cache = keep_cache
        self._cache: Dict[int, np.ndarray] = {}
        self.num_steps = grid.num_steps(reader.num_frames, reader.fps)

    def frames(self, steps: Sequence[int]) -> np.ndarray:
        """``uint8 [S * clip_len, H, W, 3]``, snippet after snippet."""
        indices = self.grid.native_frame_indices(
            steps, self.reader.num_frames, self.reader.fps)
        unique = np.unique(indices)
        if self.keep_cache:  # frames before this call's are not needed again
            self._cache = {i: f for i, f in self._cache.items()
                           if i >= unique[0]}
        missing = np.array([i for i in unique if i not in self._cache],
                           dtype=np.int64)
        chunk = self.chunk_frames or max(len(missing), 1)
        done: Dict[int, np.ndarray] = {}
        for start in range(0, len(missing), chunk):
            part = missing[start:start + chunk]
            frames = apply_frame_transforms(self.reader.read(part),
                                            self.transforms)
            done.update(zip(part.tolist(), frames))
        done.update({i: self._cache[i] for i in unique if i in self._cache})
        if self.keep_cache:
            self._cache = done
        shapes = {done[i].shape for i in unique.tolist()}
        if len(shapes) > 1:
            raise TADDataError(f'video {self.reader.path}: frames of '
                               f'different sizes {sorted(shapes)} after the '
                               'frame transforms (add a Resize / crop)')
        return np.stack([done[i] for i in indices.reshape(-1).tolist()])
