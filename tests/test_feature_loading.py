"""Feature files of every format, layouts, alignment, resizing, caching."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmaction.registry import DATASETS

from asl_mmaction.datasets.feature_io import (load_array, make_source,
                                              peek_shape)
from asl_mmaction.datasets.transforms import LoadTADFeatures
from asl_mmaction.datasets.transforms.loading import (combine_feature_sets,
                                                      resize_linear)
from dataset_fixtures import write_features, write_h5

CFG = dict(feat_stride=16.0, num_frames=32.0, feat_dims=None,
           length_align='crop', resize_length=None, downsample_rate=1)


@pytest.mark.parametrize('suffix', ['.npy', '.npz', '.pt'])
@pytest.mark.parametrize('layout', ['TC', 'CT'])
def test_every_format_and_layout_reads_time_first(tmp_path, suffix, layout):
    arrays = write_features(tmp_path, {'v': 11}, channels=5, suffix=suffix,
                            layout=layout)
    source = make_source(str(tmp_path / f'v{suffix}'),
                         key='feats' if suffix == '.npz' else None,
                         layout=layout)
    assert peek_shape(source) == (11, 5)
    loaded = load_array(source)
    assert loaded.dtype == np.float32 and loaded.flags.c_contiguous
    np.testing.assert_array_equal(loaded, arrays['v'])


def test_hdf5_file_keyed_by_video(tmp_path):
    arrays = {'a': np.ones((4, 3), np.float32),
              'b': np.arange(12, dtype=np.float64).reshape(6, 2)}
    write_h5(tmp_path / 'f.h5', arrays)
    source = make_source(str(tmp_path / 'f.h5'), key='b')
    assert peek_shape(source) == (6, 2)
    np.testing.assert_array_equal(load_array(source), arrays['b'])


def test_hdf5_dataset_end_to_end(tmp_path):
    import json
    ann = {'clip': dict(subset='val', duration=10.0, fps=30.0,
                        annotations=[dict(segment=[1.0, 2.0], label='x',
                                          label_id=0)])}
    (tmp_path / 'a.json').write_text(json.dumps(ann))
    write_h5(tmp_path / 'feats.h5',
             {'clip': np.zeros((17, 4), np.float32)})
    ds = DATASETS.build(dict(
        type='Ego4DMQDataset', ann_file='a.json', data_root=str(tmp_path),
        feat_file='feats.h5', feat_stride=16, num_frames=32, test_mode=True,
        pipeline=[dict(type='LoadTADFeatures'), dict(type='PackTADInputs')]))
    assert ds[0]['inputs'].shape == (4, 17)


def test_resize_matches_torch_linear_interpolation():
    feats = np.random.default_rng(0).normal(size=(37, 3)).astype(np.float32)
    for length in (16, 37, 100):
        want = F.interpolate(torch.from_numpy(feats.T)[None], size=length,
                             mode='linear', align_corners=False)[0].T
        np.testing.assert_allclose(resize_linear(feats, length),
                                   want.numpy(), rtol=1e-6)


def test_length_alignment_crop_and_resample():
    a = np.ones((10, 2), np.float32)
    b = np.arange(9, dtype=np.float32)[:, None].repeat(3, 1)
    feats, stride, window = combine_feature_sets([a, b], CFG, 6.0, 30.0)
    assert feats.shape == (9, 5) and (stride, window) == (16.0, 32.0)
    np.testing.assert_array_equal(feats[:, 2:], b)
    resampled, _, _ = combine_feature_sets(
        [a, b], dict(CFG, length_align='resample'), 6.0, 30.0)
    assert resampled.shape == (10, 5)
    assert resampled[0, 2] == 0.0 and resampled[-1, 2] == 8.0


def test_downsample_and_resize_set_effective_stride():
    a = np.arange(20, dtype=np.float32)[:, None]
    feats, stride, window = combine_feature_sets(
        [a], dict(CFG, downsample_rate=2), 11.0, 30.0)
    np.testing.assert_array_equal(feats[:, 0], np.arange(0, 20, 2))
    assert stride == 32.0 and window == 32.0
    feats, stride, window = combine_feature_sets(
        [a], dict(CFG, resize_length=8), 11.0, 30.0)
    assert feats.shape == (8, 1)
    assert stride == pytest.approx(11.0 * 30.0 / 8)
    # the window overhang (32 - 16 frames) is kept on top of the new stride
    assert window == pytest.approx(stride + 16.0)


def test_cache_features_skips_the_disk(tmp_path):
    write_features(tmp_path, {'v': 6}, channels=2)
    results = dict(video_name='v', duration=3.5, fps=30.0, segments=np.zeros(
        (0, 2)), labels=np.zeros(0, np.int64), feat_cfg=CFG,
        feat_sources=[make_source(str(tmp_path / 'v.npy'))])
    loader = LoadTADFeatures(cache_features=True)
    first = loader(dict(results))['feats']
    (tmp_path / 'v.npy').unlink()
    second = loader(dict(results))['feats']
    np.testing.assert_array_equal(first, second)
    second[:] = 0  # a consumer writing into its copy leaves the cache intact
    np.testing.assert_array_equal(loader(dict(results))['feats'], first)
    from asl_mmaction.datasets import TADDataError
    with pytest.raises(TADDataError, match='not found'):
        LoadTADFeatures()(dict(results))
