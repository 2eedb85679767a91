from .length_sorted_sampler import LengthSortedSampler

__all__ = ['LengthSortedSampler']
