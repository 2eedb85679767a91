"""MMAction2 ``.pkl`` feature files read without running pickled code, and
the extraction sidecars (grid records) that datasets check."""
import json
import os
import pickle

import mmengine
import numpy as np
import pytest
import torch

from asl_mmaction.datasets.feature_io import (check_feature_grid,
                                              load_array, make_source,
                                              peek_shape, read_sidecar)
from asl_mmaction.datasets.tad_errors import TADDataError


@pytest.mark.parametrize('value', [
    torch.randn(7, 5),                       # what MMAction2 1.x writes
    torch.randn(7, 5).half(),
    np.random.default_rng(0).normal(size=(7, 5)).astype(np.float32),  # 0.x
])
def test_mmaction2_pkl_features_read_as_time_first(tmp_path, value):
    path = tmp_path / 'video.mp4.pkl'
    mmengine.dump(value, str(path))  # MMAction2's split_feats does this
    source = make_source(str(path))
    assert source['fmt'] == 'pkl' and peek_shape(source) == (7, 5)
    expected = value.float().numpy() if torch.is_tensor(value) else value
    np.testing.assert_allclose(load_array(source), expected, rtol=1e-6)


class RunsCode:
    def __reduce__(self):
        return (os.system, ('echo pwned > pwned.txt', ))


def test_a_pkl_that_would_run_code_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with open('evil.pkl', 'wb') as f:
        pickle.dump(RunsCode(), f)
    with pytest.raises(TADDataError, match=r'evil\.pkl.*refused to load '
                       r'(posix|os)\.system'):
        load_array(make_source('evil.pkl'))
    assert not (tmp_path / 'pwned.txt').exists()


def test_one_vector_per_video_is_explained(tmp_path):
    path = tmp_path / 'v.pkl'
    mmengine.dump(torch.randn(2048), str(path))
    with pytest.raises(TADDataError, match='one vector .* --long-video-mode'):
        load_array(make_source(str(path)))


def test_sidecar_grid_check(tmp_path):
    feats = tmp_path / 'v.npy'
    np.save(feats, np.zeros((3, 2), np.float32))
    check_feature_grid(str(feats), 30.0, 16, 32)  # no sidecar: nothing to do
    assert read_sidecar(str(feats)) is None
    (tmp_path / 'v.npy.json').write_text(json.dumps(
        dict(fps=30.0, feat_stride=16, num_frames=32)))
    check_feature_grid(str(feats), 30.0, 16.0, 32.0)
    check_feature_grid(str(feats), None, 16, 32)  # fps from each video
    with pytest.raises(TADDataError, match=r'v\.npy: fps=25\.0 but the '
                       'features have fps=30.0'):
        check_feature_grid(str(feats), 25.0, 16, 32)
    (tmp_path / 'v.npy.json').write_text('{"fps": 30}')
    with pytest.raises(TADDataError, match="lacks \\['feat_stride', "
                       "'num_frames'\\]"):
        read_sidecar(str(feats))
