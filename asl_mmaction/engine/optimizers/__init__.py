from .actionformer_optim_constructor import (
    ActionFormerOptimWrapperConstructor, decays)

__all__ = ['ActionFormerOptimWrapperConstructor', 'decays']
