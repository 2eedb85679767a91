from .checkpoint import install_checkpoint_loader, trust_checkpoint
from .dist_utils import prepare_distributed, shutdown_distributed

__all__ = ['install_checkpoint_loader', 'trust_checkpoint',
           'prepare_distributed', 'shutdown_distributed']
