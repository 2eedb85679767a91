"""tools/infer.py from video files: features extracted through a recognizer
(then reused), detections printed and written as JSON, timeline PNGs; the
grid read from sidecars; MMAction2 .pkl features; channel checks."""
import json
import textwrap
from pathlib import Path

import mmengine
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmaction.registry import MODELS

from asl_mmaction.utils.cli import run_main
from run_helpers import load_script, run_tool
from video_fixtures import X3D_TINY_CHANNELS, write_recognizer, write_video

REPO = Path(__file__).resolve().parents[1]
CLASSES = [f'demo_action_{i}' for i in range(6)]


infer_tool = load_script('tools/infer.py', 'infer_under_test')


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    """Two videos, a tiny recognizer, and a demo detector (random weights)
    taking its 64-channel features on a stride-8 grid."""
    root = tmp_path_factory.mktemp('infer')
    videos = [str(write_video(root / 'kitchen.mp4', 90)),
              str(write_video(root / 'garden.mp4', 60))]
    rec = write_recognizer(root)
    cfg_path = root / 'detector.py'
    cfg_path.write_text(textwrap.dedent(f"""\
        _base_ = [{str(REPO / 'configs' / 'asl' / 'asl_demo.py')!r}]
        model = dict(backbone=dict(in_channels={X3D_TINY_CHANNELS}))
        test_dataloader = dict(dataset=dict(feat_stride=8, num_frames=8))
        """))
    cfg = Config.fromfile(str(cfg_path))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    ckpt = root / 'detector.pth'
    torch.save(dict(state_dict=model.state_dict(),
                    meta=dict(dataset_meta=dict(classes=CLASSES))), ckpt)
    return dict(root=root, videos=videos, config=str(cfg_path),
                checkpoint=str(ckpt), **{f'rec_{k}': v
                                         for k, v in rec.items()})


def test_videos_in_detections_out(setup, tmp_path):
    """The README command: extraction, detection, JSON + PNG; the second
    run reuses the extracted features."""
    out = tmp_path / 'dets.json'
    feat_dir = tmp_path / 'features'
    args = ['tools/infer.py', setup['config'], setup['checkpoint'],
            *setup['videos'], '--extractor', setup['rec_config'],
            '--extractor-ckpt', setup['rec_checkpoint'], '--feat-dir',
            str(feat_dir), '--out', str(out), '--show', '--top-k', '5']
    log = run_tool(args, timeout=240).stdout
    assert '2 extracted, 0 reused' in log
    dets = json.loads(out.read_text())
    assert set(dets) == {'kitchen', 'garden'}
    for name, frames in (('kitchen', 90), ('garden', 60)):
        # random weights score low, yet the top detections are there
        assert len(dets[name]) == 5
        assert f'{name}: 5 action(s)' in log
        scores = [d['score'] for d in dets[name]]
        assert scores == sorted(scores, reverse=True)
        for det in dets[name]:
            assert det['label'] in CLASSES
            assert 0.0 <= det['segment'][0] <= det['segment'][1] <= \
                frames / 30.0 + 1e-6
        assert (tmp_path / f'dets_{name}.png').stat().st_size > 1000
        meta = json.loads((feat_dir / f'{name}.npy.json').read_text())
        assert meta['feat_stride'] == 8 and meta['num_frames'] == 8
    first = dets['kitchen'][0]
    assert f"{first['label']}  ({first['score']:.3f})" in log
    again = run_tool(args, timeout=240).stdout
    assert '0 extracted, 2 reused' in again
    assert json.loads(out.read_text()) == dets


def run_infer(setup, *args):
    """The tool in this process; its detections."""
    return infer_tool.run([setup['config'], setup['checkpoint'],
                           *map(str, args)])


def infer_status(setup, *args):
    """The tool's exit status, errors printed as the command line does."""
    return run_main(infer_tool.main, [setup['config'], setup['checkpoint'],
                                      *map(str, args)])


def test_feature_files_take_their_grid_from_the_sidecar(setup, tmp_path,
                                                        capsys):
    feats = tmp_path / 'clip.npy'
    np.save(feats, np.random.default_rng(0).normal(
        size=(40, X3D_TINY_CHANNELS)).astype(np.float32))
    (tmp_path / 'clip.npy.json').write_text(json.dumps(dict(
        fps=15.0, feat_stride=4, num_frames=8, duration=11.0)))
    dets = run_infer(setup, feats, '--top-k', '3')
    assert len(dets['clip']) == 3
    # the sidecar's duration bounds the segments, not 40 steps at 30 fps
    assert max(d['segment'][1] for d in dets['clip']) <= 11.0
    assert infer_status(setup, feats, '--feat-stride', '16') == 1
    err = capsys.readouterr().err
    assert 'clip.npy: --feat-stride 16 but its sidecar' in err


def test_wrong_channels_are_named_before_running(setup, tmp_path, capsys):
    good = tmp_path / 'good.npy'
    bad = tmp_path / 'bad.npy'
    np.save(good, np.zeros((20, X3D_TINY_CHANNELS), np.float32))
    np.save(bad, np.zeros((20, 2304), np.float32))
    assert infer_status(setup, good, bad) == 1
    err = capsys.readouterr().err
    assert 'takes 64-channel features' in err
    assert f'{bad}: 2304 channels' in err and str(good) not in err


def test_mmaction2_pkl_features(setup, tmp_path):
    """What MMAction2's clip_feature_extraction.py writes (a pickled
    tensor, ``<video>.mp4.pkl``) goes in as it is."""
    path = tmp_path / 'match.mp4.pkl'
    mmengine.dump(torch.randn(30, X3D_TINY_CHANNELS), str(path))
    dets = run_infer(setup, path, '--fps', '30', '--feat-stride', '8',
                     '--num-frames', '8', '--top-k', '2')
    assert list(dets) == ['match'] and len(dets['match']) == 2


def test_videos_without_extractor_are_refused(setup, capsys):
    assert infer_status(setup, setup['videos'][0]) == 1
    assert '--extractor RECOGNIZER_CONFIG' in capsys.readouterr().err


def test_score_threshold_is_optional(setup, tmp_path):
    feats = tmp_path / 'clip.npy'
    np.save(feats, np.random.default_rng(1).normal(
        size=(30, X3D_TINY_CHANNELS)).astype(np.float32))
    assert len(run_infer(setup, feats)['clip']) == 10  # default top-k
    assert run_infer(setup, feats, '--score-thr', '1.01')['clip'] == []
