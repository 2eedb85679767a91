"""Timeline, sensitivity-curve and architecture plots, and tools/visualize.py.
"""
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from matplotlib.image import imread

from asl_mmaction.evaluation.functional import dump_predictions
from asl_mmaction.models.sensitivity.class_sensitivity import \
    ClassSensitivityEvaluator
from asl_mmaction.visualization.architecture import draw_architecture
from asl_mmaction.visualization.sensitivity_curves import (
    draw_sensitivity_curves, profile_curves)
from asl_mmaction.visualization.timeline import (assign_lanes,
                                                 draw_timelines,
                                                 draw_video_timeline,
                                                 normalize_video,
                                                 safe_file_name,
                                                 select_predictions)
from run_helpers import load_script

REPO = Path(__file__).resolve().parents[1]
CLASSES = ('take', 'put', 'open', 'close')


def _load_tool(name):
    return load_script(f'tools/{name}.py', f'tool_{name}')


def assert_png(path, min_size=(50, 50)):
    path = Path(path)
    assert path.is_file() and path.stat().st_size > 1000
    assert path.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    height, width = imread(str(path)).shape[:2]
    assert height >= min_size[0] and width >= min_size[1]


def make_video(name, tensors=False, seed=0):
    rng = np.random.default_rng(seed)
    starts = rng.uniform(0, 80, size=6)
    preds = dict(segments=np.stack([starts, starts + 5], 1),
                 scores=np.array([0.95, 0.8, 0.5, 0.31, 0.29, 0.05]),
                 labels=np.array([0, 1, 2, 0, 3, 1]))
    if tensors:
        preds = {k: torch.as_tensor(v) for k, v in preds.items()}
    return dict(video_name=name, duration=100.0,
                ann_segments=np.array([[1.0, 6.0], [20.0, 30.0]]),
                ann_labels=np.array([0, 2]), pred_instances=preds)


# ------------------------------------------------------------------ timeline
def test_draw_timelines_one_panel_per_video(tmp_path):
    videos = [make_video(f'v{i}', tensors=i % 2 == 1, seed=i)
              for i in range(5)]
    out = tmp_path / 'sub' / 'timelines.png'
    fig = draw_timelines(videos, str(out), CLASSES, score_thr=0.3,
                         max_videos=3)
    assert len(fig.axes) == 3
    assert_png(out)
    ax = fig.axes[0]
    assert ax.get_xlim() == (0.0, 100.0)  # seconds of the whole video
    # GT classes {take, open} + kept predictions {take, put, open}
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ['take', 'put', 'open']
    # scores >= 0.3 are written on their bars (with their rank), lower
    # ones are not drawn
    texts = {t.get_text() for t in ax.texts}
    assert texts == {'#1 0.95', '#2 0.80', '#3 0.50', '#4 0.31'}


def test_default_draws_the_top_k_whatever_the_scores(tmp_path):
    """A weak model's scores are low (the demo's best are ~0.15-0.4): the
    default shows its best predictions instead of hiding them all."""
    video = make_video('v')
    video['pred_instances']['scores'] = np.array(
        [0.14, 0.12, 0.09, 0.05, 0.04, 0.01])
    fig = draw_video_timeline(video, str(tmp_path / 'v.png'), CLASSES,
                              top_k=4)
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert texts == ['#1 0.14', '#2 0.12', '#3 0.09', '#4 0.05']
    bars = [c for c in ax.collections if c.get_alpha() is not None]
    assert len(bars) == 4
    # equally visible whatever the score (opacity no longer = score)
    assert {c.get_alpha() for c in bars} == {0.55}
    assert 'top 4 of 6 predictions' in ax.get_title(loc='left')
    assert_png(tmp_path / 'v.png')


def test_overlapping_predictions_get_their_own_lanes():
    segments = np.array([[10., 30.], [12., 28.], [40., 50.], [15., 20.]])
    lanes = assign_lanes(segments, np.arange(4), np.zeros(4, np.int64))
    # the 2nd overlaps the 1st; the 3rd is free in lane 0; the 4th
    # overlaps both of the first two
    assert lanes.tolist() == [0, 1, 0, 2]
    # another class has its own lanes
    assert assign_lanes(segments[:2], np.arange(2), np.array([0, 1])
                        ).tolist() == [0, 0]
    # more overlaps than lanes: the lane overlapped least
    many = np.array([[0., 10.]] * 3 + [[0., 2.]])
    assert assign_lanes(many, np.arange(4), np.zeros(4, np.int64),
                        max_lanes=3).tolist() == [0, 1, 2, 0]


def test_narrow_bars_carry_no_overprinting_label():
    video = make_video('v')
    video['duration'] = 5000.0  # 5-second bars are a few pixels wide
    fig = draw_video_timeline(video, None, CLASSES)
    assert len(fig.axes[0].texts) == 0


def test_select_predictions_threshold_and_top_k():
    scores = np.array([0.2, 0.9, 0.5, 0.7])
    keep = select_predictions(np.zeros((4, 2)), scores, np.zeros(4), 0.4, 2)
    assert keep.tolist() == [1, 3]


def test_video_without_predictions_or_ground_truth(tmp_path):
    video = dict(video_name='empty', duration=30.0)
    fig = draw_video_timeline(video, str(tmp_path / 'e.png'))
    assert len(fig.axes) == 1
    assert_png(tmp_path / 'e.png')


def test_timeline_bad_input_names_video():
    video = make_video('broken')
    video['ann_labels'] = np.array([0])
    with pytest.raises(ValueError, match='broken'):
        normalize_video(video)
    video = make_video('broken2')
    video['pred_instances']['scores'] = np.array([0.5])
    with pytest.raises(ValueError, match='broken2'):
        draw_timelines([video], None)
    with pytest.raises(ValueError, match='no video'):
        draw_timelines([], None)


def test_safe_file_name():
    assert safe_file_name('a/b c.mp4') == 'a_b_c.mp4'
    assert safe_file_name('..') == 'video'


# ------------------------------------------------------- sensitivity curves
def test_sensitivity_curves_from_module(tmp_path):
    module = ClassSensitivityEvaluator(num_classes=5, mode='normalized')
    with torch.no_grad():
        module.mu[3] = torch.tensor([0.2, -0.4, 0.3])
        module.sigma[3] -= 2.0
    out = tmp_path / 'sens.png'
    fig = draw_sensitivity_curves(module, [0, 3, 4, 1], CLASSES + ('x', ),
                                  str(out))
    assert len(fig.axes) == 4  # the empty 6th slot of a 2x3 grid is removed
    assert_png(out)
    assert fig.axes[1].get_title() == '3: close'
    # the plotted cls curve of class 3 peaks at its mu, drawn with the
    # module's own rule (sigma_min + softplus), and drawing must not reset
    # the training statistics
    line = fig.axes[1].get_lines()[0]
    x, y = line.get_xdata(), line.get_ydata()
    assert x[np.argmax(y)] == pytest.approx(0.2, abs=0.01)
    sigma = float(module.effective_sigma()[3, 0])
    half = x[(y >= 0.5)]
    assert half.max() - half.min() == pytest.approx(
        2 * sigma * np.sqrt(2 * np.log(2)), abs=0.02)
    assert module._weight_sum is None


def test_profile_curves_follow_each_mode():
    x = np.linspace(-0.5, 0.5, 11)
    ref = ClassSensitivityEvaluator(num_classes=2, mode='reference')
    with torch.no_grad():
        ref.mu[1] = torch.tensor([0.1, -0.2, 0.2])
        ref.sigma[1] = torch.tensor([0.3, 0.4, 0.5])
    curves = profile_curves(ref, x)[1]
    start = np.exp(-(x + 0.2) ** 2 / (2 * 0.4 ** 2))
    np.testing.assert_allclose(curves[1], start / start.max(), rtol=1e-5)
    loc = (curves[1] * start.max() + np.exp(-(x - 0.2) ** 2 / 0.5)) / 2 * \
        np.exp(-(x - 0.1) ** 2 / 0.18)
    np.testing.assert_allclose(curves[3], loc / loc.max(), rtol=1e-4)
    # a fitted profile: baseline + amplitude * Gaussian, as the module has it
    fitted = ClassSensitivityEvaluator(num_classes=2, in_channels=4)
    with torch.no_grad():
        fitted.mu[0, 0], fitted.sigma[0, 0] = 0.25, 0.1
        fitted.amplitude[0, 0], fitted.baseline[0, 0] = 0.6, 0.2
    cls = 0.2 + 0.6 * np.exp(-(x - 0.25) ** 2 / 0.02)
    np.testing.assert_allclose(profile_curves(fitted, x)[0, 0],
                               cls / cls.max(), rtol=1e-5)


def test_sensitivity_curves_bad_input():
    module = ClassSensitivityEvaluator(num_classes=2, mode='normalized')
    with pytest.raises(ValueError, match='outside the 2 classes'):
        draw_sensitivity_curves(module, [2], None, None)
    with pytest.raises(TypeError, match='curves'):
        draw_sensitivity_curves(object(), [0], None, None)


# ------------------------------------------------------------ architecture
def test_architecture_diagram(tmp_path):
    out = tmp_path / 'asl_overview.png'
    fig = draw_architecture(str(out), dpi=50)
    assert len(fig.axes) == 1
    texts = ' '.join(t.get_text() for t in fig.axes[0].texts)
    for part in ('backbone', 'feature pyramid', 'class-level sensitivity',
                 'instance-level sensitivity', 'focal', 'DIoU',
                 'contrastive'):
        assert part in texts
    assert_png(out, min_size=(400, 700))


# ------------------------------------------------------- tools/visualize.py
def _write_ego4d_annotations(path):
    database = {}
    for i in range(3):
        database[f'clip{i}'] = dict(
            subset='val' if i < 2 else 'train', duration=100.0,
            annotations=[dict(segment=[1.0, 6.0], label='put', label_id=1),
                         dict(segment=[20.0, 30.0], label='take',
                              label_id=0)])
    path.write_text(json.dumps({'version': 'v1', 'database': database}))


def test_visualize_timeline_tool(tmp_path):
    ann = tmp_path / 'ann.json'
    _write_ego4d_annotations(ann)
    results = {f'clip{i}': dict(segments=[[1.5, 6.5], [50, 60]],
                                scores=[0.9, 0.4], labels=[1, 0])
               for i in range(3)}
    pred = tmp_path / 'pred.json'
    dump_predictions(results, str(pred), format='ego4d_mq',
                     classes=('take', 'put'))
    tool = _load_tool('visualize')
    videos, classes, unknown = tool.timeline_videos(
        str(pred), str(ann), 'ego4d_mq', 'val')
    assert [v['video_name'] for v in videos] == ['clip0', 'clip1']
    assert classes == ('take', 'put') and unknown == ['clip2']
    np.testing.assert_allclose(videos[0]['pred_instances']['segments'],
                               [[1.5, 6.5], [50, 60]])
    out = tmp_path / 'vis'
    tool.main(['timeline', str(pred), '--ann-file', str(ann), '--dataset',
               'ego4d_mq', '--out', str(out)])
    assert sorted(p.name for p in out.iterdir()) == [
        'clip0.png', 'clip1.png', 'overview.png']
    assert_png(out / 'clip0.png')
    # predictions of another split: a clear error, not an empty folder
    dump_predictions({'clip2': results['clip2']}, str(pred),
                     format='ego4d_mq', classes=('take', 'put'))
    with pytest.raises(ValueError, match='none of its 1 videos'):
        tool.timeline_videos(str(pred), str(ann), 'ego4d_mq', 'val')


def test_visualize_sensitivity_tool(tmp_path):
    config = tmp_path / 'cfg.py'
    config.write_text("default_scope = 'mmaction'\n"
                      "model = dict(type='ClassSensitivityEvaluator', "
                      "num_classes=4, mode='normalized')\n")
    module = ClassSensitivityEvaluator(num_classes=4, mode="normalized")
    with torch.no_grad():
        module.mu[2, 0] = 0.25
    ckpt = tmp_path / 'model.pth'
    torch.save(dict(state_dict=module.state_dict(), meta={}), ckpt)
    tool = _load_tool('visualize')
    loaded = tool.load_sensitivity_evaluator(str(config), str(ckpt))
    assert float(loaded.mu[2, 0].detach()) == pytest.approx(0.25)
    out = tmp_path / 'sens.png'
    tool.main(['sensitivity', str(config), str(ckpt), '--classes', '0', '2',
               '--out', str(out)])
    assert_png(out)


def test_sensitivity_class_names_from_checkpoint_or_config(tmp_path,
                                                           demo_root):
    from mmengine.config import Config
    config = tmp_path / 'cfg.py'
    config.write_text("default_scope = 'mmaction'\n"
                      "model = dict(type='ClassSensitivityEvaluator', "
                      "num_classes=4, mode='normalized')\n")
    module = ClassSensitivityEvaluator(num_classes=4, mode="normalized")
    ckpt = tmp_path / 'model.pth'
    torch.save(dict(state_dict=module.state_dict(),
                    meta=dict(dataset_meta=dict(classes=CLASSES))), ckpt)
    tool = _load_tool('visualize')
    _, names = tool.load_sensitivity_model(str(config), str(ckpt))
    assert names == list(CLASSES)
    # no names in the checkpoint: those of the config's dataset
    cfg = Config.fromfile(str(REPO / 'configs' / 'asl' / 'asl_demo.py'))
    cfg.test_dataloader.dataset.data_root = str(demo_root)
    assert tool.config_class_names(cfg)[:2] == ('demo_action_0',
                                                 'demo_action_1')
