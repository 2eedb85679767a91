"""The THUMOS14 / ActivityNet / MultiTHUMOS / Charades configs hold the
published recipes' values (the ones their comments name)."""
import os

import pytest
from mmengine.config import Config

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# config -> (dotted key, value) of the recipe each follows
RECIPES = {
    'asl_thumos14_i3d.py': {  # ActionFormer configs/thumos_i3d.yaml
        'model.backbone.in_channels': 2048,
        'model.backbone.window_size': 19,
        'model.backbone.arch': (2, 2, 5),
        'model.backbone.with_abs_pe': False,
        'model.head.num_classes': 20,
        'model.head.strides': (1, 2, 4, 8, 16, 32),
        'model.head.loss_normalizer.init': 100.0,
        'model.head.test_cfg.nms_pre': 2000,
        'model.head.test_cfg.max_per_video': 200,
        'model.head.test_cfg.nms.sigma': 0.5,
        'model.head.test_cfg.nms.class_agnostic': False,
        'model.data_preprocessor.max_seq_len': 2304,
        'train_dataloader.dataset.feat_stride': 4,
        'train_dataloader.dataset.num_frames': 16,
        'train_dataloader.dataset.subset': 'val',
        'val_dataloader.dataset.subset': 'test',
        'train_dataloader.dataset.pipeline.1.max_seq_len': 2304,
        'train_dataloader.dataset.pipeline.1.min_overlap': 0.5,
        'train_dataloader.dataset.pipeline.1.crop_ratio': (0.9, 1.0),
        'val_evaluator.dataset_name': 'thumos14',
        'optim_wrapper.optimizer.lr': 1e-4,
        'train_cfg.max_epochs': 35,
    },
    'asl_activitynet13_tsp.py': {  # ActionFormer configs/anet_tsp.yaml
        'model.backbone.in_channels': 512,
        'model.backbone.embed_channels': 256,
        'model.backbone.window_size': (7, 7, 7, 7, 7, -1),
        'model.backbone.with_abs_pe': True,
        'model.backbone.max_seq_len': 192,
        'model.head.num_classes': 1,
        'model.head.label_smoothing': 0.1,
        'model.head.loss_reg.loss_weight': 2.0,
        'model.head.loss_normalizer.init': 200.0,
        'model.head.test_cfg.max_per_video': 100,
        'model.head.test_cfg.min_duration': 0.001,
        'model.head.test_cfg.nms.sigma': 0.75,
        'model.head.test_cfg.nms.voting_threshold': 0.9,
        'model.head.test_cfg.nms.class_agnostic': True,
        'train_dataloader.dataset.resize_length': 192,
        'train_dataloader.dataset.resize_span': 'features',
        'train_dataloader.dataset.fps': 15.0,
        'train_dataloader.dataset.feat_stride': 16,
        'train_dataloader.dataset.class_agnostic': True,
        'val_evaluator.dataset_name': 'activitynet',
        'optim_wrapper.optimizer.lr': 1e-3,
        'train_cfg.max_epochs': 15,
        'val_evaluator.score_fusion.topk': 2,
        'val_evaluator.score_fusion.max_detections': 200,
    },
    'asl_multithumos_i3d_rgb.py': {  # TemporalMaxer's MultiTHUMOS yaml
        'model.backbone.in_channels': 1024,
        'model.head.num_classes': 65,
        'model.head.test_cfg.nms_pre': 3000,
        'model.head.test_cfg.max_per_video': 300,
        'train_dataloader.dataset.feat_stride': 4,
        'train_dataloader.dataset.num_frames': 16,
        'train_dataloader.dataset.pipeline.1.stop': 1024,
        'val_evaluator.dataset_name': 'multithumos',
        'train_cfg.max_epochs': 65,
    },
    'asl_charades_i3d_rgb.py': {  # ASL loader, OpenTAD's recipe
        'model.backbone.in_channels': 1024,
        'model.backbone.window_size': -1,
        'model.backbone.arch': (2, 2, 6),
        'model.head.num_classes': 157,
        'model.head.test_cfg.max_per_video': 1000,
        'model.head.test_cfg.nms.sigma': 0.3,
        'model.data_preprocessor.max_seq_len': 768,
        'train_dataloader.dataset.fps_from_features': True,
        'train_dataloader.dataset.feat_stride': 1,
        'val_evaluator.dataset_name': 'charades',
        'train_cfg.max_epochs': 20,
    },
}


def lookup(cfg, dotted):
    value = cfg
    for key in dotted.split('.'):
        value = value[int(key)] if key.isdigit() else value[key]
    return value


@pytest.mark.parametrize('name', list(RECIPES))
def test_recipe_values(name):
    for folder in ('asl', 'actionformer'):
        path = os.path.join(REPO, 'configs', folder, name if folder == 'asl'
                            else name.replace('asl_', 'actionformer_'))
        cfg = Config.fromfile(path)
        for key, expected in RECIPES[name].items():
            got = lookup(cfg, key)
            got = tuple(got) if isinstance(got, list) else got
            assert got == expected, f'{path}: {key} = {got!r}'
        assert (cfg.model.head.class_sensitivity is None) == (
            folder == 'actionformer')
        nms = cfg.model.head.test_cfg.nms
        # boundary voting only exists in class-agnostic NMS
        assert nms.class_agnostic or 'voting_threshold' not in nms
        assert cfg.model.backbone.max_seq_len == \
            cfg.model.data_preprocessor.max_seq_len == \
            cfg.train_dataloader.dataset.pipeline[-2].max_seq_len
