"""End to end from video files: VideoTADDataset + snippet transforms,
SnippetDataPreprocessor, VideoSnippetEncoder (frozen with its feature cache,
fine-tuned with gradient checkpointing and partial freezing) under the ASL
head, trained for a few iterations by MMEngine's Runner from the shipped
configs with tiny random MMAction2 backbones."""
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner
from mmaction.registry import DATASETS, MODELS

from run_helpers import load_script, run_tool
from video_fixtures import (SLOWFAST_TINY, SLOWFAST_TINY_CHANNELS,
                            SWIN_TINY, SWIN_TINY_CHANNELS, VIT_TINY,
                            VIT_TINY_CHANNELS, X3D_TINY, X3D_TINY_CHANNELS,
                            write_actionformer_json, write_recognizer,
                            write_video)

REPO = Path(__file__).resolve().parents[1]
X3D_FROZEN = REPO / 'configs' / 'end2end' / 'asl_x3d_s_frozen_videos.py'
X3D_FINETUNE = REPO / 'configs' / 'end2end' / 'asl_x3d_s_finetune_videos.py'
VIT_FINETUNE = (REPO / 'configs' / 'end2end' /
                'asl_videomae_vit_b_finetune_videos.py')
CLASSES = ('wave', 'jump', 'sit')
FPS = 30.0
GRID = dict(fps=FPS, feat_stride=4, num_frames=8, clip_len=4)
MAX_SEQ_LEN = 32
FRAMES = {'train_a': 120, 'train_b': 96, 'val_a': 84}


@pytest.fixture(scope='module')
def video_data(tmp_path_factory):
    """Three short generated videos with ActionFormer-layout annotations,
    and a random-weight recognizer checkpoint per backbone family."""
    root = tmp_path_factory.mktemp('videos')
    (root / 'videos').mkdir()
    videos = {}
    for name, frames in FRAMES.items():
        write_video(root / 'videos' / f'{name}.mp4', frames, fps=FPS)
        duration = frames / FPS
        videos[name] = dict(
            subset='validation' if name.startswith('val') else 'training',
            duration=duration, fps=FPS,
            segments=[(0.4, 1.6, 0), (1.2, duration - 0.3, 2)])
    write_actionformer_json(root / 'annotations.json', videos, CLASSES)
    x3d = write_recognizer(root, X3D_TINY, X3D_TINY_CHANNELS, name='x3d')
    vit = write_recognizer(root, VIT_TINY, VIT_TINY_CHANNELS, name='vit')
    return dict(root=root, x3d=x3d, vit=vit)


def tiny_config(base: Path, data_root: Path, work_dir: Path,
                video_backbone: dict, channels: int, pretrained: str,
                **backbone) -> Config:
    """``base`` (a shipped end-to-end config) with a tiny backbone, tiny
    frames and a two-iteration budget."""
    cfg = Config.fromfile(str(base))
    frame_transforms = [dict(type='Resize', scale=(-1, 36)),
                        dict(type='CenterCrop', crop_size=32)]
    train_pipeline = [
        dict(type='LoadSnippetGrid'),
        dict(type='RandomTemporalCrop', max_seq_len=MAX_SEQ_LEN),
        dict(type='LoadSnippetFrames', frame_transforms=frame_transforms,
             clip_transforms=[dict(type='Flip', flip_ratio=0.5)]),
        dict(type='PackTADSnippets')]
    test_pipeline = [
        dict(type='LoadSnippetGrid'),
        dict(type='LoadSnippetFrames', frame_transforms=frame_transforms),
        dict(type='PackTADSnippets')]
    data = dict(data_root=str(data_root), class_names=list(CLASSES), **GRID)
    cfg.merge_from_dict(dict(
        model=dict(
            data_preprocessor=dict(max_seq_len=MAX_SEQ_LEN),
            backbone=dict(
                video_backbone=dict(_delete_=True, **video_backbone),
                pretrained=pretrained, snippets_per_pass=8, **backbone,
                temporal_backbone=dict(
                    in_channels=channels, embed_channels=32, arch=(1, 1, 3),
                    num_heads=2, window_size=5, max_seq_len=MAX_SEQ_LEN,
                    path_drop=0.0)),
            neck=dict(in_channels=32, out_channels=32, num_levels=4),
            head=dict(num_classes=len(CLASSES), in_channels=32,
                      feat_channels=32, strides=(1, 2, 4, 8),
                      regress_ranges=((0, 4), (4, 8), (8, 16), (16, 10000)),
                      test_cfg=dict(max_per_video=50))),
        train_dataloader=dict(batch_size=2, num_workers=0,
                              persistent_workers=False,
                              dataset=dict(pipeline=train_pipeline, **data)),
        val_dataloader=dict(num_workers=0, persistent_workers=False,
                            dataset=dict(pipeline=test_pipeline, **data)),
        test_dataloader=dict(num_workers=0, persistent_workers=False,
                             dataset=dict(pipeline=test_pipeline, **data)),
        train_cfg=dict(max_epochs=2, val_interval=2),
        param_scheduler=[dict(type='ConstantLR', factor=1.0)],
        optim_wrapper=dict(optimizer=dict(lr=1e-3)),
        default_hooks=dict(logger=dict(interval=1),
                           checkpoint=dict(interval=2, save_best=None)),
        log_processor=dict(window_size=1),
        work_dir=str(work_dir)))
    return cfg


def test_dataset_loads_the_snippet_frames_of_a_window(video_data):
    cfg = tiny_config(X3D_FROZEN, video_data['root'], video_data['root'],
                      X3D_TINY, X3D_TINY_CHANNELS,
                      video_data['x3d']['checkpoint'])
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    assert len(dataset) == 2 and dataset.metainfo['classes'] == CLASSES
    # (120 frames - 8) // 4 + 1 = 29 snippets > 32? no: all fit, no crop
    sample = dataset[0]
    steps = (FRAMES['train_a'] - 8) // 4 + 1
    assert sample['inputs'].dtype == torch.uint8
    assert tuple(sample['inputs'].shape) == (steps, 3, 4, 32, 32)
    meta = sample['data_samples'].metainfo
    assert meta['feat_len'] == steps and meta['feat_stride'] == 4.0
    assert meta['feat_offset'] == 1.0  # 0.5 * 8 / 4
    # first action 0.4-1.6 s -> steps 0.4*30/4-1 = 2.0 .. 11.0
    np.testing.assert_allclose(
        sample['data_samples'].gt_instances.segments_in_steps[0].numpy(),
        [2.0, 11.0], atol=1e-5)


def test_dataset_names_a_video_whose_length_disagrees(video_data, tmp_path):
    videos = {'val_a': dict(subset='validation', duration=9.0, fps=FPS,
                            segments=[(0.5, 1.0, 0)])}
    ann = write_actionformer_json(tmp_path / 'a.json', videos, CLASSES)
    with pytest.raises(ValueError, match=r'val_a.*lasts 2\.80 s.*9\.00'):
        DATASETS.build(dict(type='VideoTADDataset', ann_file=str(ann),
                            data_root=str(video_data['root']),
                            video_dir='videos', test_mode=True, **GRID))


def frozen_parameters(model):
    return {n: p.detach().clone() for n, p in
            model.backbone.video_backbone.named_parameters()}


def test_frozen_x3d_trains_end_to_end_and_caches_snippets(
        video_data, tmp_path):
    cfg = tiny_config(X3D_FROZEN, video_data['root'], tmp_path / 'work',
                      X3D_TINY, X3D_TINY_CHANNELS,
                      video_data['x3d']['checkpoint'])
    runner = Runner.from_cfg(cfg)
    encoder = runner.model.backbone
    assert encoder.frozen and encoder.cache_features
    passed = []
    encoder.video_backbone.register_forward_hook(
        lambda module, args, out: passed.append(args[0].shape[0]))
    runner.train()
    # the recognizer checkpoint's backbone weights were loaded, and kept
    ckpt = torch.load(video_data['x3d']['checkpoint'])['state_dict']
    for name, value in encoder.video_backbone.state_dict().items():
        torch.testing.assert_close(value, ckpt[f'backbone.{name}'])
    # every training snippet of both videos is cached once
    steps = sum((FRAMES[v] - 8) // 4 + 1 for v in ('train_a', 'train_b'))
    assert len(encoder._caches['train']) == steps
    val_steps = (FRAMES['val_a'] - 8) // 4 + 1
    assert len(encoder._caches['eval']) == val_steps
    # two epochs, yet each snippet went through the backbone once
    assert sum(passed) == steps + val_steps
    scalars = (tmp_path / 'work').glob('*/vis_data/scalars.json')
    text = next(scalars).read_text()
    assert '"loss_cls"' in text and 'mAP' in text


def test_finetuned_vit_trains_with_checkpointing_and_partial_freezing(
        video_data, tmp_path):
    cfg = tiny_config(VIT_FINETUNE, video_data['root'], tmp_path / 'work',
                      VIT_TINY, VIT_TINY_CHANNELS,
                      video_data['vit']['checkpoint'],
                      freeze=['patch_embed'])
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    runner = Runner.from_cfg(cfg)
    encoder = runner.model.backbone
    assert encoder.with_cp and not encoder.cache_features
    runner._init_model_weights()
    before = frozen_parameters(runner.model)
    runner.train()
    after = frozen_parameters(runner.model)
    changed = {n for n in before if not torch.equal(before[n], after[n])}
    assert changed and not any(n.startswith('patch_embed') for n in changed)
    assert any(n.startswith('blocks.0.') for n in changed)
    assert not encoder._caches['train']


def test_finetuned_x3d_gradients_reach_the_video_backbone(video_data):
    cfg = tiny_config(X3D_FINETUNE, video_data['root'], video_data['root'],
                      X3D_TINY, X3D_TINY_CHANNELS, None)
    model = MODELS.build(cfg.model)
    model.train()
    bn = [m for m in model.backbone.video_backbone.modules()
          if isinstance(m, torch.nn.BatchNorm3d)]
    assert bn and not any(m.training for m in bn)  # norm_eval
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    data = model.data_preprocessor(
        dict(inputs=[dataset[0]['inputs'], dataset[1]['inputs']],
             data_samples=[dataset[0]['data_samples'],
                           dataset[1]['data_samples']]), training=True)
    losses = model(**data, mode='loss')
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    grads = {n: p.grad for n, p in
             model.backbone.video_backbone.named_parameters()}
    assert all(g is None for n, g in grads.items()
               if n.startswith(('conv1_s', 'conv1_t', 'layer1')))
    assert grads['layer4.0.conv1.conv.weight'].abs().sum() > 0


def test_padding_never_reaches_the_video_backbone(video_data):
    """The same video alone or next to a longer one (so padded) gives the
    same snippet vectors and pyramid at its valid steps."""
    cfg = tiny_config(X3D_FROZEN, video_data['root'], video_data['root'],
                      X3D_TINY, X3D_TINY_CHANNELS, None)
    cfg.model.backbone.cache_features = False
    model = MODELS.build(cfg.model).eval()
    dataset = DATASETS.build(cfg.test_dataloader.dataset.copy())
    train = DATASETS.build(cfg.train_dataloader.dataset.copy())
    short, long_ = dataset[0], train[0]
    with torch.no_grad():
        alone = model.data_preprocessor(dict(
            inputs=[short['inputs']], data_samples=[short['data_samples']]))
        pair = model.data_preprocessor(dict(
            inputs=[short['inputs'], long_['inputs']],
            data_samples=[short['data_samples'], long_['data_samples']]))
        assert alone['masks'].shape[-1] < pair['masks'].shape[-1]
        feats_a, masks_a = model.backbone(alone['inputs'], alone['masks'])
        feats_p, masks_p = model.backbone(pair['inputs'], pair['masks'])
    length = short['inputs'].shape[0]
    torch.testing.assert_close(feats_a[0][0, :, :length],
                               feats_p[0][0, :, :length], atol=1e-5,
                               rtol=1e-5)
    assert not masks_p[0][0, 0, length:].any()


def test_a_video_backbone_as_the_detector_backbone_fails_at_build():
    cfg = Config.fromfile(str(REPO / 'configs' / 'asl' / 'asl_demo.py'))
    cfg.model.backbone = dict(type='ResNet3d', depth=18, pretrained=None,
                              pretrained2d=False)
    with pytest.raises(TypeError) as err:
        MODELS.build(cfg.model)
    message = str(err.value)
    assert 'ResNet3d' in message and 'does not take a mask' in message
    assert "type='VideoSnippetEncoder'" in message
    assert "video_backbone=dict(type='ResNet3d'" in message


def test_standard_tools_run_an_end_to_end_config(video_data, tmp_path):
    """tools/check_dataset.py, tools/dist_train.sh (two CPU processes) and
    tools/test.py on a config inheriting the shipped one, as a user runs
    them: the videos checked, one epoch from the video files, then the test
    split scored."""
    cfg = tiny_config(X3D_FROZEN, video_data['root'], tmp_path / 'work',
                      X3D_TINY, X3D_TINY_CHANNELS,
                      video_data['x3d']['checkpoint'])
    cfg.train_cfg.max_epochs = 1
    cfg.train_dataloader.batch_size = 1  # one video per process
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    path = tmp_path / 'tiny_e2e.py'
    cfg.dump(str(path))
    check = run_tool(['tools/check_dataset.py', str(path), '--split',
                      'train'], timeout=240)
    assert 'all videos OK' in check.stdout
    steps = [(FRAMES[v] - 8) // 4 + 1 for v in ('train_a', 'train_b')]
    assert (f'feature length (steps): min {min(steps)}, mean '
            f'{sum(steps) / 2:.1f}, max {max(steps)}') in check.stdout
    log = run_tool(['tools/dist_train.sh', str(path), 2], timeout=300)
    assert (tmp_path / 'work' / 'epoch_1.pth').exists()
    assert 'loss_cls' in log.stdout
    test = run_tool(['tools/test.py', str(path),
                     str(tmp_path / 'work' / 'epoch_1.pth'), '--work-dir',
                     str(tmp_path / 'test')], timeout=240)
    assert 'mAP' in test.stdout


def test_infer_tool_detects_in_videos_with_an_end_to_end_model(
        video_data, tmp_path):
    """tools/infer.py CONFIG CKPT video.mp4 with an end-to-end config: the
    test pipeline reads the video's snippets, no extractor needed."""
    cfg = tiny_config(X3D_FROZEN, video_data['root'], tmp_path / 'work',
                      X3D_TINY, X3D_TINY_CHANNELS, None)
    path = tmp_path / 'e2e.py'
    cfg.dump(str(path))
    model = MODELS.build(cfg.model)
    ckpt = tmp_path / 'e2e.pth'
    torch.save(dict(state_dict=model.state_dict(),
                    meta=dict(dataset_meta=dict(classes=CLASSES))), ckpt)
    infer = load_script('tools/infer.py', 'infer_e2e')
    video = video_data['root'] / 'videos' / 'val_a.mp4'
    out = tmp_path / 'dets.json'
    dets = infer.run([str(path), str(ckpt), str(video), '--top-k', '4',
                      '--out', str(out), '--show'])
    assert list(dets) == ['val_a'] and len(dets['val_a']) == 4
    assert all(d['label'] in CLASSES and
               d['segment'][1] <= FRAMES['val_a'] / FPS + 1e-6
               for d in dets['val_a'])
    assert (tmp_path / 'dets_val_a.png').exists()


@pytest.mark.parametrize('path', [X3D_FROZEN, X3D_FINETUNE, VIT_FINETUNE],
                         ids=lambda p: p.stem)
def test_shipped_end_to_end_configs_are_consistent(path):
    """The real-size models build; the temporal backbone takes what the
    video backbone gives for one snippet of the config's clip; the grid
    and lengths agree between the dataset, the crop and the model."""
    cfg = Config.fromfile(str(path))
    model = MODELS.build(cfg.model).eval()
    encoder = model.backbone
    data = cfg.train_dataloader.dataset
    assert encoder.video_backbone_type in ('X3D', 'VisionTransformer')
    assert cfg.model.backbone.pretrained.startswith(
        'https://download.openmmlab.com/mmaction/')
    clip = torch.zeros(1, 3, data.clip_len, 64, 64)
    with torch.no_grad():
        vector = encoder.encode_snippets(clip)
    assert vector.shape == (1, encoder.temporal_backbone.in_channels)
    crop = [t for t in data.pipeline if t.type == 'RandomTemporalCrop'][0]
    assert (crop.max_seq_len == cfg.model.data_preprocessor.max_seq_len ==
            cfg.model.backbone.temporal_backbone.max_seq_len)
    assert cfg.val_dataloader.dataset.num_frames == data.num_frames
    fine_tuned = encoder.freeze != 'all'
    assert fine_tuned == ('finetune' in path.stem) == encoder.with_cp
    assert encoder.cache_features == (not fine_tuned)
    if fine_tuned:
        assert 'backbone.video_backbone' in \
            cfg.optim_wrapper.paramwise_cfg.custom_keys


@pytest.mark.parametrize('backbone,channels', [
    (X3D_TINY, X3D_TINY_CHANNELS), (SLOWFAST_TINY, SLOWFAST_TINY_CHANNELS),
    (SWIN_TINY, SWIN_TINY_CHANNELS), (VIT_TINY, VIT_TINY_CHANNELS),
    (dict(type='ResNet', depth=18, pretrained=None), 512)],
    ids=['x3d', 'slowfast', 'swin', 'vit', 'resnet2d'])
def test_every_backbone_family_gives_one_vector_per_snippet(backbone,
                                                            channels):
    """3-D CNN ([N, C, t, h, w]), SlowFast ((slow, fast)), VideoSwin, ViT
    ([N, C]) and a 2-D CNN (frames folded into the batch) all pool to
    ``[N, C]`` and feed the temporal backbone; a wrong ``in_channels`` is
    named."""
    def encoder(in_channels):
        return MODELS.build(dict(
            type='VideoSnippetEncoder', video_backbone=backbone,
            frames_per_snippet_2d=backbone['type'] == 'ResNet',
            temporal_backbone=dict(type='ConvBackbone',
                                   in_channels=in_channels,
                                   embed_channels=16, arch=(1, 1, 2))))
    mask = torch.tensor([[[True] * 3 + [False]], [[True] * 4]])
    frames = torch.randn(7, 3, 4, 32, 32)
    feats, masks = encoder(channels)(dict(frames=frames, keys=None), mask)
    assert feats[0].shape == (2, 16, 4) and len(feats) == 3
    assert not feats[0][0, :, 3].any()  # the padded step stays empty
    with pytest.raises(ValueError, match=f'gives {channels} channels per '
                       f'snippet .*in_channels={channels}$'):
        encoder(channels + 1)(dict(frames=frames, keys=None), mask)
