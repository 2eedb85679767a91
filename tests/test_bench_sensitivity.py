"""The semi-real benchmark: its data generator and a smoke run of the bench.

The generator tests use the real EPIC annotation files (``../shared/data``)
and skip without them; the smoke run trains ActionFormer and full ASL for
one epoch on six short videos through the real Runner, metric, checkpoint
reading and plotting tool.
"""
import json
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from run_helpers import load_script

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def _load(name):
    return load_script(osp.join(REPO, 'bench', f'{name}.py'), f'bench_{name}')


semi_real_data = _load('semi_real_data')
bench = _load('bench_sensitivity')


# ------------------------------------------------------------- signal model
def _class_signal(variant, key, length_s=60.0, reps=40):
    """Mean projection on the class direction at 20 relative positions of
    ``reps`` long actions, plus the same for the start cue."""
    s = semi_real_data.SemiRealSettings(variant=variant, feat_channels=32)
    rng = np.random.default_rng(0)
    dirs = np.eye(32)[:2]  # class 0 along e0, class 1 along e1
    boundary = np.eye(32)[2:4]
    steps = semi_real_data.num_feature_steps(reps * (length_s + 20), s)
    segments = [[10 + i * (length_s + 20), 10 + i * (length_s + 20)
                 + length_s] for i in range(reps)]
    feats = semi_real_data.render_features(
        rng, steps, segments, [0] * reps, dirs, np.array([key, 0.5]),
        boundary, s)
    centres = (np.arange(steps) * s.feat_stride + s.num_frames / 2) / s.fps
    bins = np.zeros((2, 20))
    hits = np.zeros(20)
    for start, end in segments:
        r = (centres - start) / (end - start)
        inside = (r >= 0) & (r < 1)
        idx = (r[inside] * 20).astype(int)
        np.add.at(bins[0], idx, feats[inside, 0])
        np.add.at(bins[1], idx, feats[inside, 2])
        np.add.at(hits, idx, 1)
    return bins / hits, s


def test_peaked_evidence_peaks_at_the_class_key_position():
    for key in (0.2, 0.7):
        (cls, start), s = _class_signal('peaked', key)
        centres = (np.arange(20) + 0.5) / 20
        assert abs(centres[cls.argmax()] - key) <= 0.05
        assert cls.max() > s.base + 0.8 * s.peak
        # the evidence elsewhere in the action is the weak base level
        far = np.abs(centres - key) > 0.35
        assert np.all(np.abs(cls[far] - s.base) < 0.35)
        # the start cue sits at the start, not at the key position
        assert start.argmax() == 0


def test_flat_control_has_the_same_mean_evidence_and_no_peak():
    key = 0.3
    (peaked, _), s = _class_signal('peaked', key)
    (flat, _), _ = _class_signal('flat', key)
    assert abs(flat.mean() - peaked.mean()) < 0.15
    # flat: every bin within noise of the mean (boundary bins included)
    assert np.ptp(flat[1:-1]) < 0.4
    assert np.ptp(peaked) > 2.0
    assert semi_real_data.profile_mean(key, s) == pytest.approx(
        np.mean(semi_real_data.peaked_profile(
            np.linspace(0, 1, 100001), key, s)), abs=1e-3)


def test_settings_are_checked():
    with pytest.raises(ValueError, match='variant'):
        semi_real_data.SemiRealSettings(variant='peak')
    with pytest.raises(ValueError, match='key_range'):
        semi_real_data.SemiRealSettings(key_range=(0.2, 1.2))
    a = semi_real_data.SemiRealSettings()
    assert a.folder_name() != semi_real_data.SemiRealSettings(
        peak=2.0).folder_name()
    assert 'flat' in semi_real_data.SemiRealSettings(
        variant='flat').folder_name()


# ------------------------------------------------------------ generated data
@pytest.fixture(scope='module')
def small_sets(shared_data, tmp_path_factory):
    root = str(tmp_path_factory.mktemp('semi_real'))
    kwargs = dict(shared_data=str(shared_data), max_videos=6)
    return root, kwargs, {v: semi_real_data.generate_semi_real_data(
        root, variant=v, **kwargs) for v in ('peaked', 'flat')}


def test_generated_data_keep_the_real_annotations(small_sets, shared_data):
    root, kwargs, sets = small_sets
    info = sets['peaked']
    s = semi_real_data.SemiRealSettings(max_videos=6)
    records, classes = semi_real_data.load_epic_records(str(shared_data), s)
    ann = json.load(open(info['ann_file']))['database']
    assert sorted(ann) == sorted(r['video_name'] for r in records)
    for rec in records:
        video = ann[rec['video_name']]
        assert video['duration'] == rec['duration']
        assert [a['segment'] for a in video['annotations']] == [
            list(seg) for seg in rec['segments']]
        assert [a['label_id'] for a in video['annotations']] == \
            rec['label_ids']
        feats = np.load(osp.join(info['feat_dir'],
                                 rec['video_name'] + '.npz'))['feats']
        assert feats.dtype == np.float32
        assert feats.shape == (semi_real_data.num_feature_steps(
            rec['duration'], s), 64)
    meta = info['meta']
    assert set(meta['split']['train']).isdisjoint(meta['split']['val'])
    assert len(meta['split']['val']) == 2  # 25 % of 6, rounded
    total = np.bincount([i for r in records for i in r['label_ids']],
                        minlength=len(classes))
    np.testing.assert_array_equal(
        np.add(meta['train_counts'], meta['val_counts']), total)
    keys = np.asarray(meta['key_positions'])
    assert keys.shape == (97, ) and keys.min() >= 0.1 and keys.max() <= 0.9
    # the control shares annotations, split and key positions
    flat = sets['flat']
    assert flat['data_root'] != info['data_root']
    assert flat['meta']['split'] == meta['split']
    assert flat['meta']['key_positions'] == meta['key_positions']
    assert json.load(open(flat['ann_file'])) == json.load(
        open(info['ann_file']))


def test_generation_is_deterministic_and_cached(small_sets, tmp_path):
    root, kwargs, sets = small_sets
    again = semi_real_data.generate_semi_real_data(root, variant='peaked',
                                                   **kwargs)
    assert again['data_root'] == sets['peaked']['data_root']
    other = semi_real_data.generate_semi_real_data(str(tmp_path),
                                                   variant='peaked', **kwargs)
    name = other['meta']['split']['train'][0] + '.npz'
    a = np.load(osp.join(other['feat_dir'], name))['feats']
    b = np.load(osp.join(sets['peaked']['feat_dir'], name))['feats']
    np.testing.assert_array_equal(a, b)
    # no temporary folder left behind
    assert [p.name for p in tmp_path.iterdir()] == [
        osp.basename(other['data_root'])]


def test_the_epic_dataset_reads_the_generated_data(small_sets):
    from mmaction.registry import DATASETS
    _, _, sets = small_sets
    info = sets['peaked']
    cfg = Config.fromfile(osp.join(
        REPO, 'configs/asl/asl_epic_kitchens_100_verb.py'))
    cfg.merge_from_dict(Config.fromfile(osp.join(
        REPO, 'bench/configs/semi_real_epic_verb.py')).to_dict())
    for split, loader in (('train', cfg.train_dataloader),
                          ('val', cfg.val_dataloader)):
        ds = DATASETS.build(dict(loader.dataset, data_root=info['data_root']))
        names = [ds.get_data_info(i)['video_name'] for i in range(len(ds))]
        assert sorted(names) == sorted(
            info['meta']['split'][split])
        sample = ds[0]
        assert sample['inputs'].shape[0] == 64
    assert len(ds.metainfo['classes']) == 97


def test_missing_annotation_files_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='EPIC_100_validation.csv'):
        semi_real_data.generate_semi_real_data(
            str(tmp_path / 'out'), shared_data=str(tmp_path))


# ------------------------------------------------------------------- bench
def test_learned_key_position_is_the_argmax_of_the_cls_gaussian():
    from mmaction.registry import MODELS
    module = MODELS.build(dict(type='ClassSensitivityEvaluator',
                               num_classes=3, mode='normalized'))
    with torch.no_grad():
        module.mu[:, 0] = torch.tensor([0.0, -0.3, 0.9])
    prof = bench.learned_cls_profiles(module)
    np.testing.assert_allclose(prof['key'], [0.5, 0.2, 1.0], atol=0.005)
    assert prof['contrast'][0] == pytest.approx(
        1 - np.exp(-0.25 / 2), abs=1e-3)  # sigma 1: nearly flat
    # a profile with a baseline (fitted mode): read through its curves
    fitted = MODELS.build(dict(type='ClassSensitivityEvaluator',
                               num_classes=3, in_channels=8,
                               mode='fitted'))
    with torch.no_grad():
        fitted.mu[:, 0] = torch.tensor([0.0, -0.3, 0.9])
        fitted.sigma[:, 0] = 1.0
        fitted.amplitude[:, 0] = 0.5
        fitted.baseline[:, 0] = 0.5
    prof_fitted = bench.learned_cls_profiles(fitted)
    np.testing.assert_allclose(prof_fitted['key'], prof['key'])
    # baseline 0.5 + amplitude 0.5: half the Gaussian's contrast
    assert prof_fitted['contrast'][0] == pytest.approx(
        prof['contrast'][0] / 2, abs=1e-3)
    rec = bench.recovery(prof, np.array([0.5, 0.4, 0.8]),
                         np.array([30, 25, 3]), 20)
    assert rec['classes'] == [0, 1]
    np.testing.assert_allclose(rec['error'], [0.0, 0.2], atol=0.005)
    assert rec['within_0_1'] == 1
    assert rec['centre_error'] == pytest.approx(0.05)  # |0.5-0.5|, |0.4-0.5|
    assert rec['same_side'] == 0.5  # class 0 did not move
    # learned 0.5, 0.2 vs true 0.5, 0.4: the same order
    assert rec['corr'] == pytest.approx(1.0)


def test_set_schedule_keeps_the_scheduler_types():
    cfg = Config.fromfile(osp.join(
        REPO, 'configs/asl/asl_epic_kitchens_100_verb.py'))
    types = [s['type'] for s in cfg.param_scheduler]
    with pytest.raises(ValueError, match='warmup'):
        bench.set_schedule(cfg, 3, 3)
    bench.set_schedule(cfg, 12, 2)
    assert [s['type'] for s in cfg.param_scheduler] == types
    assert cfg.train_cfg.max_epochs == 12
    if len(types) == 1:  # one warm-up + decay scheduler ending at the end
        assert cfg.param_scheduler[0]['warmup'] == 2
    # MMEngine's two-scheduler layout
    cfg = Config(dict(train_cfg=dict(max_epochs=30), param_scheduler=[
        dict(type='LinearLR', begin=0, end=5),
        dict(type='CosineAnnealingLR', begin=5, end=30, T_max=25)]))
    bench.set_schedule(cfg, 12, 2)
    assert [(s['begin'], s['end']) for s in cfg.param_scheduler] == [
        (0, 2), (2, 12)]
    assert cfg.param_scheduler[1]['T_max'] == 10
    bench.set_schedule(cfg, 5, 0)
    assert [s['type'] for s in cfg.param_scheduler] == ['CosineAnnealingLR']


def test_variant_configs_follow_the_project_configs(tmp_path):
    args = bench.parse_args(['--work-dir', str(tmp_path)])
    data = dict(bench.DATASETS['semi_real'], data_root=str(tmp_path))
    heads = {}
    for variant in bench.VARIANTS:
        cfg = bench.build_cfg(args, data, variant, 3, str(tmp_path / 'w'))
        heads[variant] = cfg.model.head
        assert cfg.model.backbone.in_channels == 64
        assert cfg.train_dataloader.dataset.data_root == str(tmp_path)
        assert cfg.test_dataloader.dataset.subset == 'val'
        assert cfg.randomness.seed == 3 and cfg.val_cfg is None
        assert cfg.train_cfg.max_epochs == 12
        assert cfg.optim_wrapper.optimizer.lr == 1e-3
        ema = [h for h in cfg.custom_hooks if h['type'] == 'EMAHook']
        assert ema[0]['momentum'] == 0.01
    twin = Config.fromfile(osp.join(REPO, bench.EPIC_CONFIGS['af']))
    assert heads['af'].class_sensitivity is None
    assert heads['af'].contrastive_loss == twin.model.head.contrastive_loss
    assert heads['class'].class_sensitivity is not None
    assert heads['class'].instance_sensitivity is None
    assert heads['class'].contrastive_loss is None
    assert heads['class_inst'].instance_sensitivity is not None
    assert heads['class_inst'].contrastive_loss is None
    assert heads['full'].contrastive_loss is not None
    assert heads['reference'].class_sensitivity.mode == 'reference'


def test_quick_bench_trains_tests_and_reads_the_profiles(shared_data,
                                                        tmp_path):
    out = tmp_path / 'result.json'
    result = bench.main([
        '--quick', '--variants', 'full', '--threads', '1',
        '--data-dir', str(tmp_path / 'data'), '--work-dir',
        str(tmp_path / 'work'), '--json', str(out)])
    assert json.loads(out.read_text())['summary'].keys() == {'full'}
    runs = {r['variant']: r for r in result['runs']}
    for run in runs.values():
        assert set(run['metrics']) == set(bench.METRIC_KEYS)
        assert all(0.0 <= v <= 1.0 for v in run['metrics'].values())
        assert run['train_s'] > 0
    rec = runs['full']['recovery']
    assert rec['classes'] and len(rec['error']) == len(rec['classes'])
    # the true positions are the generator's, the learned ones the
    # checkpoint's Gaussians
    keys = semi_real_data.generate_semi_real_data(
        str(tmp_path / 'data' / 'semi_real'), shared_data=str(shared_data),
        max_videos=6)['meta']['key_positions']
    assert rec['true'] == [keys[c] for c in rec['classes']]
    np.testing.assert_allclose(
        rec['error'], np.abs(np.subtract(rec['learned'], rec['true'])))
    assert all(0.0 <= k <= 1.0 for k in rec['learned'])
    assert osp.getsize(runs['full']['png']) > 1000
