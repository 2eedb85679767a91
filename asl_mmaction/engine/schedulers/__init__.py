from .warmup_cosine_lr import LinearWarmupCosineLR, warmup_cosine_factor

__all__ = ['LinearWarmupCosineLR', 'warmup_cosine_factor']
