"""A class-sensitivity plug-in written outside the package, in a user's
own module and config, trains through tools/train.py; the schedule of a
config that only changes max_epochs decays to ~0 by its last iteration."""
import textwrap

from run_helpers import ASL_DEMO, run_tool, train_scalars, write_module

PLUGIN = '''
import torch
from mmaction.registry import MODELS
from asl_mmaction.models.heads.plugins import BaseClassSensitivity


@MODELS.register_module()
class EdgeFavouringSensitivity(BaseClassSensitivity):
    """A user's idea: weigh positives by their distance from the centre,
    one learnable sharpness per class."""

    def __init__(self, num_classes):
        super().__init__()
        self.num_classes = num_classes
        self.sharpness = torch.nn.Parameter(torch.ones(num_classes))

    def forward(self, positives):
        w = 1 + self.sharpness[positives.label] * positives.position.abs()
        return w, w

    def profile(self, pairs):
        w = 1 + self.sharpness[pairs.label] * pairs.position.abs()
        return w[:, None].expand(-1, 3)

    def curves(self, positions):
        w = 1 + self.sharpness[:, None] * positions.abs()[None]
        return w[:, None].expand(-1, 3, -1)
'''


def test_user_plugin_trains_from_a_config_outside_the_package(demo_root,
                                                              tmp_path):
    user = tmp_path / 'my_project'
    user.mkdir()
    module = write_module(user, 'my_sensitivity', PLUGIN)
    config = user / 'my_asl.py'
    config.write_text(textwrap.dedent(f"""
        _base_ = [{str(ASL_DEMO)!r}]
        custom_imports = dict(imports=['asl_mmaction', {module!r}],
                              allow_failed_imports=False)
        model = dict(head=dict(class_sensitivity=dict(
            _delete_=True, type='EdgeFavouringSensitivity')))
        data_root = {str(demo_root)!r}
        train_dataloader = dict(dataset=dict(data_root=data_root, indices=8))
        val_cfg = None
        val_dataloader = None
        val_evaluator = None
        test_dataloader = dict(dataset=dict(data_root=data_root, indices=2))
        train_cfg = dict(max_epochs=4)
        default_hooks = dict(logger=dict(interval=1))
        log_processor = dict(window_size=1)
        """))
    work = tmp_path / 'work'
    run_tool(['tools/train.py', config, '--work-dir', work], timeout=300,
             extra_paths=[user])
    records = train_scalars(work)
    assert len(records) == 16  # 4 epochs x 4 iterations
    assert all('loss_contrast' in r for r in records)
    # warm-up (2 epochs of the demo) from 0, then the cosine to the last
    # iteration of max_epochs: no schedule length was copied anywhere
    lrs = [r['lr'] for r in records]
    assert lrs[0] == 0.0 and max(lrs) > 5e-4
    assert lrs[-1] < 0.05 * max(lrs)
