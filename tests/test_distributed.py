"""Two CPU processes through ``tools/dist_train.sh`` / ``tools/dist_test.sh``
(torchrun, gloo): training, evaluation of every video exactly once, and the
same losses as one process with the same global batch."""
import json

import pytest
import torch

from run_helpers import (ACTIONFORMER_DEMO, losses_by_iter, run_tool,
                         train_scalars, write_config, write_module)

# A TADMetric that also writes the video names it is given: what MMEngine's
# collect_results gathered from the ranks, before the metric's own
# de-duplication.
COUNTING_METRIC = '''
import json
from mmaction.registry import METRICS
from asl_mmaction.evaluation.metrics import TADMetric


@METRICS.register_module()
class CountingTADMetric(TADMetric):
    def __init__(self, names_file, **kwargs):
        super().__init__(**kwargs)
        self.names_file = names_file

    def compute_metrics(self, results):
        with open(self.names_file, 'w') as f:
            json.dump([r['video_name'] for r in results], f)
        return super().compute_metrics(results)
'''
NUM_VAL = 5  # not a multiple of the world size: the sampler pads


def counting_evaluators(folder) -> str:
    write_module(folder, 'counting_metric', COUNTING_METRIC)
    return f"""
        custom_imports = dict(imports=['asl_mmaction', 'counting_metric'],
                              allow_failed_imports=False)
        val_evaluator = dict(type='CountingTADMetric', dataset_name='ego4d_mq',
                             names_file={str(folder / 'val_names.json')!r})
        test_evaluator = dict(type='CountingTADMetric',
                              dataset_name='ego4d_mq',
                              names_file={str(folder / 'test_names.json')!r})
        """


def dist_train(folder, cfg, work_dir):
    return run_tool(['tools/dist_train.sh', cfg, 2, '--work-dir', work_dir],
                    timeout=240, extra_paths=[folder])


def assert_close_losses(one, two, keys, iters, rtol):
    for it in iters:
        for key in keys:
            assert one[it][key] == pytest.approx(two[it][key], rel=rtol), (
                f'iteration {it} {key}: 1 process {one[it][key]}, '
                f'2 processes {two[it][key]}')


@pytest.fixture(scope='module')
def asl_two_procs(demo_root, tmp_path_factory):
    """ASL, 2 processes x 1 clip, 6 clips (3 iterations), validated on 5."""
    folder = tmp_path_factory.mktemp('dist_asl')
    cfg = write_config(folder, demo_root, num_train=6, batch_size=1,
                       num_val=NUM_VAL, extra=counting_evaluators(folder))
    dist_train(folder, cfg, folder / 'work')
    return folder, cfg


def test_two_process_training_checkpoints_logs_and_validates(asl_two_procs):
    folder, _ = asl_two_procs
    work = folder / 'work'
    assert [r['iter'] for r in train_scalars(work)] == [1, 2, 3]
    ckpt = torch.load(work / 'epoch_1.pth', map_location='cpu',
                      weights_only=False)
    # the DDP wrapper is not saved: the weights load into a bare model
    assert not any(k.startswith('module.') for k in ckpt['state_dict'])
    assert 'head.loss_normalizer.value' in ckpt['state_dict']
    names = json.loads((folder / 'val_names.json').read_text())
    assert len(names) == NUM_VAL == len(set(names))


def test_dist_test_scores_every_video_exactly_once(asl_two_procs):
    folder, cfg = asl_two_procs
    out = folder / 'preds.json'
    result = run_tool(['tools/dist_test.sh', cfg, folder / 'work' /
                       'epoch_1.pth', 2, '--work-dir', folder / 'test',
                       '--out', out], timeout=180, extra_paths=[folder])
    names = json.loads((folder / 'test_names.json').read_text())
    expected = [f'demo_clip_{i:03d}' for i in range(48, 48 + NUM_VAL)]
    # the padded duplicate of the 2nd rank is dropped, nothing is lost
    assert sorted(names) == expected
    assert sorted(json.loads(out.read_text())['database']) == expected
    assert f'{NUM_VAL} videos' in result.stdout


def test_first_iteration_losses_match_one_process(asl_two_procs, demo_root,
                                                  tmp_path):
    """1 clip on each of 2 processes vs 2 clips in one: the focal and DIoU
    terms (the per-rank loss is scaled by the world size and divided by the
    global positive count, then averaged over ranks for the log) agree.
    ASL's total does not: the instance-sensitivity and contrastive terms
    are averaged per process."""
    folder, _ = asl_two_procs
    cfg = write_config(tmp_path, demo_root, num_train=6, batch_size=2,
                       num_val=None)
    run_tool(['tools/train.py', cfg, '--work-dir', tmp_path / 'work'])
    one = losses_by_iter(tmp_path / 'work')
    two = losses_by_iter(folder / 'work')
    assert sorted(one) == sorted(two) == [1, 2, 3]
    assert_close_losses(one, two, ('loss_cls', 'loss_reg'), [1], rtol=1e-6)


def test_actionformer_twin_matches_one_process_every_iteration(
        demo_root, tmp_path):
    """Without ASL's per-process terms the total loss, hence the gradient,
    is that of the global batch: the runs stay equal after the updates."""
    losses = {}
    for procs, batch in ((1, 2), (2, 1)):
        cfg = write_config(tmp_path, demo_root, name=f'af{procs}.py',
                           base=ACTIONFORMER_DEMO, num_train=6,
                           batch_size=batch, num_val=None)
        work = tmp_path / f'work{procs}'
        if procs == 1:
            run_tool(['tools/train.py', cfg, '--work-dir', work])
        else:
            dist_train(tmp_path, cfg, work)
        losses[procs] = losses_by_iter(work)
    assert sorted(losses[1]) == sorted(losses[2]) == [1, 2, 3]
    assert_close_losses(losses[1], losses[2], ('loss', 'loss_cls',
                                               'loss_reg'), [1], rtol=1e-6)
    # later iterations differ only by float rounding of the all-reduce
    assert_close_losses(losses[1], losses[2], ('loss', 'loss_cls',
                                               'loss_reg'), [2, 3], rtol=1e-5)
