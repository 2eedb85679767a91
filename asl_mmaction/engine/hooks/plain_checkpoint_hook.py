"""Write checkpoints that torch's ``weights_only=True`` loader accepts.

MMEngine puts the message hub's ``HistoryBuffer`` objects and numpy values
into every checkpoint; torch >= 2.6 refuses to unpickle them by default.
This hook turns them into tensors and plain Python types just before the
file is written and back just after a checkpoint is read (MMEngine's
``Runner.resume`` calls ``after_load_checkpoint`` before it restores the
message hub), so this project's checkpoints load with MMEngine's own loader,
with no allow-list and no change to how other files load. The codec is
``asl_mmaction.utils.checkpoint.to_plain`` / ``from_plain``.
"""
from mmengine.hooks import Hook
from mmaction.registry import HOOKS

from asl_mmaction.utils.checkpoint import from_plain, to_plain


@HOOKS.register_module()
class PlainCheckpointHook(Hook):
    """Checkpoints of tensors and plain Python types only.

    Priority ``LOWEST``: it encodes after every other hook has added its
    part to the checkpoint. On load it decodes after the other hooks'
    ``after_load_checkpoint``, so a hook that stores numpy values and reads
    them back there must store plain types itself (as ``RNGStateHook``
    does). Checkpoints written without the hook load unchanged.
    """

    priority = 'LOWEST'

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        plain = to_plain(checkpoint)
        checkpoint.clear()
        checkpoint.update(plain)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        decoded = from_plain(checkpoint)
        checkpoint.clear()
        checkpoint.update(decoded)
