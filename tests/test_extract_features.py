"""tools/extract_features.py on videos the tests write, through MMAction2
recognizer configs with random weights: shapes and grid, which frames each
feature comes from, batching, resuming, a broken video, several processes,
and the datasets reading the result."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmaction.registry import DATASETS, MODELS

from asl_mmaction.utils.cli import run_main
from run_helpers import kill_tree, load_script, tool_env
from video_fixtures import (GREY_STEP, X3D_TINY_CHANNELS, frame_index_of,
                            load_sidecar, num_steps, write_actionformer_json,
                            write_recognizer, write_video)

REPO = Path(__file__).resolve().parents[1]
LENGTHS = {'clip_a': 70, 'clip_b': 45}  # frames at 30 fps


extract_tool = load_script('tools/extract_features.py')


@pytest.fixture(scope='module')
def videos(tmp_path_factory):
    root = tmp_path_factory.mktemp('extract')
    (root / 'videos').mkdir()
    for name, frames in LENGTHS.items():
        write_video(root / 'videos' / f'{name}.mp4', frames)
    rec = write_recognizer(root)  # tiny X3D, 4 x 2 clip, three-crop test
    return dict(root=root, **rec)


def argv_of(videos, out, *flags, inputs=None):
    return [videos['config'], videos['checkpoint'],
            *(inputs or [str(videos['root'] / 'videos')]),
            '--out-dir', str(out), '--no-progress', *flags]


def extract(videos, out, *flags, inputs=None):
    """The tool in this process; its summary."""
    return extract_tool.extract(argv_of(videos, out, *flags, inputs=inputs))


def exit_status(videos, out, *flags, inputs=None):
    """The tool's exit status, errors printed as the command line does."""
    return run_main(extract_tool.main,
                    argv_of(videos, out, *flags, inputs=inputs))


def test_two_videos_give_features_on_the_grid(videos, tmp_path):
    summary = extract(videos, tmp_path, '--feat-stride', '8',
                      '--decoder', 'opencv', '--batch-size', '3')
    assert sorted(summary['written']) == sorted(LENGTHS)
    for name, frames in LENGTHS.items():
        feats = np.load(tmp_path / f'{name}.npy')
        # window = clip_len 4 x frame_interval 2 of the test pipeline
        assert feats.shape == (num_steps(frames, 8, 8), X3D_TINY_CHANNELS)
        assert feats.dtype == np.float32 and np.isfinite(feats).all()
        meta = load_sidecar(tmp_path / f'{name}.npy')
        assert (meta['fps'], meta['feat_stride'], meta['num_frames'],
                meta['clip_len']) == (30.0, 8, 8, 4)
        assert meta['num_steps'] == feats.shape[0]
        assert meta['channels'] == X3D_TINY_CHANNELS
        assert meta['backbone'] == 'X3D'
        assert meta['checkpoint'] == videos['checkpoint']
        assert meta['duration'] == pytest.approx(frames / 30.0)
        assert meta['video'].endswith(f'{name}.mp4')


def test_batched_features_equal_one_clip_at_a_time(videos, tmp_path):
    extract(videos, tmp_path / 'b1', '--batch-size', '1', '--decoder',
            'opencv')
    extract(videos, tmp_path / 'b5', '--batch-size', '5', '--decoder',
            'opencv')
    for name in LENGTHS:
        np.testing.assert_allclose(np.load(tmp_path / 'b5' / f'{name}.npy'),
                                   np.load(tmp_path / 'b1' / f'{name}.npy'),
                                   rtol=1e-5, atol=1e-5)


def test_decord_and_opencv_decode_alike(videos, tmp_path):
    pytest.importorskip('decord')
    extract(videos, tmp_path / 'cv', '--decoder', 'opencv')
    extract(videos, tmp_path / 'dec', '--decoder', 'decord')
    for name in LENGTHS:
        np.testing.assert_allclose(np.load(tmp_path / 'dec' / f'{name}.npy'),
                                   np.load(tmp_path / 'cv' / f'{name}.npy'),
                                   atol=1e-4)


@MODELS.register_module(force=True)
class FrameGreyForTest(nn.Module):
    """A 'video backbone' whose output says which frames it was given: the
    mean of each input frame, as channels ``[N, clip_len, 1, 1, 1]``."""

    def forward(self, x):
        return x.mean(dim=(1, 3, 4))[:, :, None, None, None]

    def init_weights(self):
        pass


@MODELS.register_module(force=True)
class FrameGrey2DForTest(FrameGreyForTest):
    """The 2-D version: one row per frame, ``[N * clip_len, 1, 1, 1]``."""

    def forward(self, x):
        return x.mean(dim=(1, 2, 3))[:, None, None, None]


@pytest.mark.parametrize('two_d', [False, True], ids=['3d', '2d'])
def test_each_feature_comes_from_the_frames_of_its_window(videos, tmp_path,
                                                          two_d):
    """Grid fps 15 on 30 fps videos, stride 3, window 6, 3 frames given:
    step s reads frames 2 * (3 s + {0, 2, 4}) of the file. A 3-D backbone
    sees them as one clip, a 2-D one frame by frame (features averaged)."""
    backbone = dict(type='FrameGrey2DForTest' if two_d else
                    'FrameGreyForTest')
    rec = write_recognizer(tmp_path, backbone, 1 if two_d else 3,
                           name='grey', clip_len=3, frame_interval=2,
                           two_d=two_d,
                           extra="model['data_preprocessor'].update("
                           "mean=[0.0] * 3, std=[1.0] * 3)\n")
    frames = LENGTHS['clip_a']
    # MJPG: every frame keeps its own grey (mp4v smears flat frames)
    video = write_video(tmp_path / 'grey.avi', frames, square=False,
                        fourcc='MJPG')
    extract(dict(videos, **rec), tmp_path / 'out', '--fps', '15',
            '--feat-stride', '3', '--decoder', 'opencv', '--batch-size', '4',
            inputs=[str(video)])
    feats = np.load(tmp_path / 'out' / 'grey.npy')
    grid_frames = frames // 2
    assert feats.shape == (num_steps(grid_frames, 3, 6), 1 if two_d else 3)
    for step, row in enumerate(feats):
        want = [2 * min(3 * step + k, grid_frames - 1) for k in (0, 2, 4)]
        if two_d:
            assert row[0] / GREY_STEP == pytest.approx(np.mean(want),
                                                       abs=0.1)
        else:
            assert [frame_index_of(v) for v in row] == want, (
                step, row / GREY_STEP)
    meta = load_sidecar(tmp_path / 'out' / 'grey.npy')
    assert meta['fps'] == 15.0 and meta['native_fps'] == 30.0


def test_rerun_skips_finished_videos_and_names_a_broken_one(videos,
                                                            tmp_path,
                                                            capsys):
    out = tmp_path / 'feats'
    extract(videos, out, '--decoder', 'opencv')
    stamp = os.stat(out / 'clip_a.npy').st_mtime_ns
    broken = tmp_path / 'broken.mp4'
    broken.write_bytes(b'this is not a video')
    status = exit_status(videos, out, '--decoder', 'opencv', inputs=[
        str(videos['root'] / 'videos' / 'clip_a.mp4'), str(broken),
        str(videos['root'] / 'videos' / 'clip_b.mp4')])
    assert status == 3
    text = capsys.readouterr()
    assert 'skipped (already done) 2' in text.out
    assert 'FAILED broken' in text.out and 'broken.mp4' in text.err
    assert os.stat(out / 'clip_a.npy').st_mtime_ns == stamp
    assert not list(out.glob('*.tmp*'))
    # other settings in the same folder: refused, naming the file
    assert exit_status(videos, out, '--feat-stride', '4', '--decoder',
                       'opencv') == 1
    err = capsys.readouterr().err
    assert err.startswith('ERROR (TADDataError): ')
    assert 'clip_a.npy was extracted with other settings' in err
    assert 'feat_stride: 16 there, 4 now' in err


def test_datasets_check_the_sidecar_grid(videos, tmp_path):
    out = tmp_path / 'feats'
    extract(videos, out, '--feat-stride', '8', '--decoder', 'opencv')
    ann = {name: dict(subset='validation', duration=frames / 30.0,
                      fps=30.0, segments=[(0.2, 0.9, 0)])
           for name, frames in LENGTHS.items()}
    write_actionformer_json(tmp_path / 'ann.json', ann, ['a'])
    cfg = dict(type='EpicKitchensDataset', ann_file=str(tmp_path /
                                                        'ann.json'),
               feat_dirs=str(out), test_mode=True, num_frames=8,
               pipeline=[dict(type='LoadTADFeatures'),
                         dict(type='PackTADInputs')])
    dataset = DATASETS.build(dict(cfg, feat_stride=8))
    assert dataset[0]['inputs'].shape == (X3D_TINY_CHANNELS,
                                          num_steps(70, 8, 8))
    with pytest.raises(ValueError, match=r'clip_a\.npy: feat_stride=16\.0 '
                       r'but the features have feat_stride=8'):
        DATASETS.build(dict(cfg, feat_stride=16))


def test_two_processes_share_the_videos(videos, tmp_path):
    """torchrun, 2 CPU processes (gloo): each video written once."""
    out = tmp_path / 'dist'
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node',
           '2', '--master_port', tool_env()['PORT'],
           str(REPO / 'tools' / 'extract_features.py'), videos['config'],
           videos['checkpoint'], str(videos['root'] / 'videos'),
           '--out-dir', str(out), '--decoder', 'opencv', '--no-progress',
           '--launcher', 'pytorch']
    proc = subprocess.Popen(cmd, cwd=str(REPO), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True,
                            env=tool_env())
    try:
        log, _ = proc.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        kill_tree(proc.pid)
        raise
    assert proc.returncode == 0, log[-3000:]
    assert '2 process(es)' in log and 'written 2,' in log
    for name, frames in LENGTHS.items():
        assert np.load(out / f'{name}.npy').shape == (
            num_steps(frames, 16, 8), X3D_TINY_CHANNELS)
    # the same features as one process computes
    single = tmp_path / 'single'
    extract(videos, single, '--decoder', 'opencv')
    for name in LENGTHS:
        np.testing.assert_allclose(np.load(out / f'{name}.npy'),
                                   np.load(single / f'{name}.npy'),
                                   atol=1e-5)


def test_a_config_without_sampling_step_is_refused(videos, tmp_path):
    from asl_mmaction.apis.feature_extraction import parse_test_pipeline
    with pytest.raises(ValueError, match='no SampleFrames step'):
        parse_test_pipeline([dict(type='DecordInit'),
                             dict(type='DecordDecode'),
                             dict(type='FormatShape', input_format='NCTHW')])
    with pytest.raises(ValueError, match='random transform RandomCrop'):
        parse_test_pipeline([dict(type='DecordInit'),
                             dict(type='SampleFrames', clip_len=4),
                             dict(type='DecordDecode'),
                             dict(type='RandomCrop', size=8),
                             dict(type='FormatShape', input_format='NCTHW')])
    torch.manual_seed(0)
