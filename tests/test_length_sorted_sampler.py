"""LengthSortedSampler: every video once, longest first, split over ranks."""
import pytest

from asl_mmaction.datasets.samplers import length_sorted_sampler
from asl_mmaction.datasets.samplers import LengthSortedSampler


class Lengths:
    def __init__(self, lengths):
        self.lengths = lengths

    def __len__(self):
        return len(self.lengths)

    def feature_length(self, i):
        return self.lengths[i]


def test_single_process_order_is_longest_first():
    sampler = LengthSortedSampler(Lengths([5, 30, 10, 30, 1]))
    assert list(sampler) == [1, 3, 2, 0, 4] and len(sampler) == 5


@pytest.mark.parametrize('world', [2, 3])
def test_ranks_share_the_order_and_cover_every_video(monkeypatch, world):
    lengths = [7, 3, 9, 1, 4, 8, 2]
    seen = []
    for rank in range(world):
        monkeypatch.setattr(length_sorted_sampler, 'get_dist_info',
                            lambda r=rank: (r, world))
        indices = list(LengthSortedSampler(Lengths(lengths)))
        # each rank's share stays sorted (the round-up padding aside), so
        # its batches hold videos of similar length
        body = [lengths[i] for i in indices[:len(lengths) // world]]
        assert body == sorted(body, reverse=True)
        seen.append(indices)
    assert len({len(s) for s in seen}) == 1  # padded to equal size
    assert set(sum(seen, [])) == set(range(len(lengths)))


def test_real_dataset_lengths(demo_root):
    from mmaction.registry import DATASETS
    from mmengine.config import Config
    cfg = Config.fromfile('configs/asl/asl_demo.py')
    cfg.val_dataloader.dataset.data_root = str(demo_root)
    dataset = DATASETS.build(cfg.val_dataloader.dataset)
    lengths = [dataset.feature_length(i) for i in LengthSortedSampler(
        dataset)]
    assert lengths == sorted(lengths, reverse=True) and len(set(lengths)) > 1
    # the length is the one the features have
    assert dataset.feature_length(0) == dataset[0]['inputs'].shape[-1]
