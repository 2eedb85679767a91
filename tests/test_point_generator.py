import pytest
import torch

from asl_mmaction.models.task_modules import PointGenerator1D


def test_points_per_level_values():
    gen = PointGenerator1D(strides=(1, 2, 4),
                           regress_ranges=((0, 4), (4, 8), (8, 1e4)))
    points = gen([8, 4, 2])
    assert points.shape == (14, 4) and points.dtype == torch.float32
    # level 0: every step, no half-stride offset
    assert points[:8, 0].tolist() == [0, 1, 2, 3, 4, 5, 6, 7]
    assert points[8:12, 0].tolist() == [0, 2, 4, 6]
    assert points[12:, 0].tolist() == [0, 4]
    assert points[:8, 1:].unique(dim=0).tolist() == [[0, 4, 1]]
    assert points[8:12, 1:].unique(dim=0).tolist() == [[4, 8, 2]]
    assert points[12:, 1:].unique(dim=0).tolist() == [[8, 1e4, 4]]


def test_points_are_cached_per_length():
    gen = PointGenerator1D(strides=(1, 2), regress_ranges=((0, 4), (4, 8)))
    first = gen([6, 3])
    assert gen([6, 3]) is first
    other = gen([4, 2])
    assert other is not first and other.shape == (6, 4)


def test_bad_configuration_and_levels():
    with pytest.raises(ValueError, match='one \\(lo, hi\\) range'):
        PointGenerator1D(strides=(1, 2), regress_ranges=((0, 4), ))
    with pytest.raises(ValueError, match='bad regress range'):
        PointGenerator1D(strides=(1, ), regress_ranges=((4, 0), ))
    gen = PointGenerator1D(strides=(1, 2), regress_ranges=((0, 4), (4, 8)))
    with pytest.raises(ValueError, match='3 feature levels'):
        gen([4, 2, 1])
