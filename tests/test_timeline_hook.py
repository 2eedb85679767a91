"""TimelineVisualizationHook: one PNG per tested video."""
from types import SimpleNamespace

import pytest
import torch
from mmengine.structures import InstanceData
from mmaction.registry import HOOKS

from asl_mmaction.engine.hooks.timeline_visualization_hook import \
    TimelineVisualizationHook
from asl_mmaction.structures import TADDataSample


def make_sample(name, with_pred=True):
    sample = TADDataSample(metainfo=dict(
        video_name=name, duration=50.0, fps=30.0, feat_stride=16.0,
        feat_offset=0.5, feat_len=94, crop_start=0,
        ann_segments=torch.tensor([[2.0, 8.0]]).numpy().astype('float64'),
        ann_labels=torch.tensor([1]).numpy()))
    if with_pred:
        pred = InstanceData()
        pred.segments = torch.tensor([[2.5, 8.5], [30.0, 40.0]])
        pred.scores = torch.tensor([0.9, 0.4])
        pred.labels = torch.tensor([1, 0])
        sample.pred_instances = pred
    return sample


def fake_runner(work_dir, classes=('open', 'close')):
    dataset = SimpleNamespace(metainfo=dict(classes=classes))
    return SimpleNamespace(work_dir=str(work_dir),
                           test_dataloader=SimpleNamespace(dataset=dataset))


def test_hook_writes_one_png_per_video(tmp_path):
    hook = HOOKS.build(dict(type='TimelineVisualizationHook',
                            out_dir='timelines'))
    assert isinstance(hook, TimelineVisualizationHook)
    runner = fake_runner(tmp_path)
    hook.before_test(runner)
    hook.after_test_iter(runner, 0, None,
                         [make_sample('clip/a'), make_sample('b')])
    hook.after_test_iter(runner, 1, None, [make_sample('c')])
    out = tmp_path / 'timelines'  # relative: under the work dir
    assert sorted(p.name for p in out.iterdir()) == [
        'b.png', 'c.png', 'clip_a.png']
    for png in out.iterdir():
        assert png.read_bytes()[:4] == b'\x89PNG' and \
            png.stat().st_size > 1000


def test_hook_absolute_dir_and_max_videos(tmp_path):
    out = tmp_path / 'abs'
    hook = TimelineVisualizationHook(out_dir=str(out), score_thr=0.5,
                                     max_videos=2)
    runner = fake_runner(tmp_path / 'work')
    hook.before_test(runner)
    hook.after_test_iter(runner, 0, None,
                         [make_sample(n) for n in 'xyz'])
    hook.after_test_iter(runner, 1, None, [make_sample('w')])
    assert sorted(p.name for p in out.iterdir()) == ['x.png', 'y.png']
    # a runner without a built test dataloader: label ids instead of names
    hook = TimelineVisualizationHook(out_dir=str(out))
    bare = SimpleNamespace(work_dir=str(tmp_path))
    hook.before_test(bare)
    hook.after_test_iter(bare, 0, None, [make_sample('v')])
    assert (out / 'v.png').is_file()


def test_hook_rejects_outputs_without_predictions(tmp_path):
    hook = TimelineVisualizationHook(out_dir=str(tmp_path))
    runner = fake_runner(tmp_path)
    hook.before_test(runner)
    with pytest.raises(KeyError, match='nopred'):
        hook.after_test_iter(runner, 0, None,
                             [make_sample('nopred', with_pred=False)])
    with pytest.raises(ValueError, match='max_videos'):
        TimelineVisualizationHook(out_dir='x', max_videos=-1)


def test_hook_in_a_real_test_run(tmp_path):
    from mmengine.evaluator import BaseMetric
    from mmengine.model import BaseModel
    from mmengine.runner import Runner

    class Detector(BaseModel):
        """Stands in for the detector: one TADDataSample per input."""

        def __init__(self):
            super().__init__()
            self.dummy = torch.nn.Parameter(torch.zeros(1))

        def forward(self, *args, **kwargs):
            raise AssertionError('test_step is overridden')

        def test_step(self, data):
            return [make_sample(name) for name in data['names']]

    class CountMetric(BaseMetric):
        def process(self, data_batch, data_samples):
            self.results.extend(s['video_name'] for s in data_samples)

        def compute_metrics(self, results):
            return dict(count=len(results))

    def collate(batch):
        return dict(names=[b['name'] for b in batch])

    data = [dict(name=f'video{i}') for i in range(5)]
    runner = Runner(
        model=Detector(), work_dir=str(tmp_path),
        test_dataloader=dict(dataset=data, batch_size=2, num_workers=0,
                             sampler=dict(type='DefaultSampler',
                                          shuffle=False),
                             collate_fn=collate),
        test_evaluator=[CountMetric()], test_cfg=dict(),
        custom_hooks=[dict(type='TimelineVisualizationHook', out_dir='vis')],
        default_scope='mmaction')
    runner.test()
    assert sorted(p.name for p in (tmp_path / 'vis').iterdir()) == [
        f'video{i}.png' for i in range(5)]
