from .checkpoint import trust_checkpoint, trusted_checkpoints
from .dist_utils import prepare_distributed, shutdown_distributed

__all__ = ['trust_checkpoint', 'trusted_checkpoints',
           'prepare_distributed', 'shutdown_distributed']
