"""``SelectFeatureChannels``: keep a channel range of the loaded features."""
from mmcv.transforms import BaseTransform
from mmaction.registry import TRANSFORMS

from ..tad_errors import TADDataError


@TRANSFORMS.register_module()
class SelectFeatureChannels(BaseTransform):
    """Keep channels ``[start, stop)`` of ``feats`` (``[C, T]``).

    E.g. the RGB half of two-stream I3D features (``start=0, stop=1024`` of
    ActionFormer's 2048-d THUMOS14 features, TemporalMaxer's MultiTHUMOS
    input). Put it right after ``LoadTADFeatures``.

    Required keys: ``feats``. Modified: ``feats``.

    Args:
        start (int): First channel kept.
        stop (int): One past the last channel kept.
    """

    def __init__(self, start: int, stop: int) -> None:
        if not 0 <= int(start) < int(stop):
            raise ValueError(f'SelectFeatureChannels: need 0 <= start < stop,'
                             f' got start={start}, stop={stop}')
        self.start, self.stop = int(start), int(stop)

    def transform(self, results: dict) -> dict:
        feats = results['feats']
        if feats.shape[0] < self.stop:
            raise TADDataError(
                f"video {results.get('video_name')}: features have "
                f'{feats.shape[0]} channels, SelectFeatureChannels needs '
                f'{self.stop}')
        results['feats'] = feats[self.start:self.stop].copy()
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(start={self.start}, stop={self.stop})'
