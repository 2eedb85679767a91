"""Focal and DIoU losses and the loss normaliser, against hand values."""
import math
import os
import socket

import pytest
import torch
import torch.multiprocessing as mp
from mmaction.registry import MODELS

from asl_mmaction.models.losses import (DIoULoss1D, LossNormalizer,
                                        SigmoidFocalLoss)

LOG2 = math.log(2.0)


def test_focal_loss_hand_values():
    loss = SigmoidFocalLoss(alpha=0.25, gamma=2.0, reduction='none')
    # logit 0: p = 0.5, ce = log 2, (1 - p_t)^2 = 1/4 for both targets
    out = loss(torch.zeros(1, 2), torch.tensor([[1.0, 0.0]]))
    expected = [[0.25 * 0.25 * LOG2, 0.75 * 0.25 * LOG2]]
    assert torch.allclose(out, torch.tensor(expected))
    # a confident right answer costs almost nothing, a wrong one a lot
    logit = math.log(9.0)  # p = 0.9
    out = loss(torch.tensor([[logit, logit]]), torch.tensor([[1.0, 0.0]]))
    right = 0.25 * 0.01 * -math.log(0.9)
    wrong = 0.75 * 0.81 * -math.log(0.1)
    assert torch.allclose(out, torch.tensor([[right, wrong]]))


def test_focal_loss_weights_reductions_and_dtype():
    logits, targets = torch.zeros(2, 2), torch.tensor([[1., 0.], [0., 0.]])
    pos, neg = 0.25 * 0.25 * LOG2, 0.75 * 0.25 * LOG2
    total = pos + 3 * neg
    assert torch.isclose(SigmoidFocalLoss()(logits, targets),
                         torch.tensor(total))
    mean = SigmoidFocalLoss(reduction='mean', loss_weight=2.0)
    assert torch.isclose(mean(logits, targets), torch.tensor(total / 2))
    row = SigmoidFocalLoss()(logits, targets, weight=torch.tensor([3., 0.]))
    assert torch.isclose(row, torch.tensor(3 * (pos + neg)))
    elem = SigmoidFocalLoss()(logits, targets,
                              weight=torch.tensor([[1., 0.], [0., 2.]]))
    assert torch.isclose(elem, torch.tensor(pos + 2 * neg))
    avg = SigmoidFocalLoss()(logits, targets, avg_factor=4.0)
    assert torch.isclose(avg, torch.tensor(total / 4))
    half = SigmoidFocalLoss()(logits.half(), targets.half())
    assert half.dtype == torch.float32
    with pytest.raises(ValueError, match='differ in shape'):
        SigmoidFocalLoss()(logits, targets[:1])
    with pytest.raises(ValueError, match='unknown reduction'):
        SigmoidFocalLoss(reduction='max')(logits, targets)


def test_diou_hand_values():
    loss = DIoULoss1D(reduction='none')
    pred = torch.tensor([[1., 1.], [1., 1.], [0., 2.]])
    target = torch.tensor([[1., 1.], [2., 2.], [1., 1.]])
    # exact match: 0; nested, same centre: 1 - 2/4;
    # [t, t+2] vs [t-1, t+1]: IoU 1/3, centres 1 apart over length 3
    expected = torch.tensor([0.0, 0.5, 1 - 1 / 3 + 1 / 9])
    assert torch.allclose(loss(pred, target), expected)
    summed = DIoULoss1D(loss_weight=2.0)(pred, target,
                                         weight=torch.tensor([1., 2., 0.]))
    assert torch.isclose(summed, torch.tensor(2.0 * 1.0))
    assert DIoULoss1D()(pred.bfloat16(), target).dtype == torch.float32
    with pytest.raises(ValueError, match='expected \\[M, 2\\]'):
        loss(pred[:, :1], target[:, :1])


def test_losses_are_registered():
    focal = MODELS.build(dict(type='SigmoidFocalLoss', alpha=0.5))
    diou = MODELS.build(dict(type='DIoULoss1D', loss_weight=0.0))
    assert isinstance(focal, SigmoidFocalLoss) and focal.alpha == 0.5
    assert isinstance(diou, DIoULoss1D) and diou.loss_weight == 0.0


def test_normaliser_ema_and_checkpoint():
    norm = LossNormalizer(init=100.0, momentum=0.9)
    assert norm.update(torch.tensor(20)) == pytest.approx(92.0)
    # zero positives count as one
    assert norm.update(torch.tensor(0)) == pytest.approx(82.9)
    restored = LossNormalizer()
    restored.load_state_dict(norm.state_dict())
    assert float(restored.value) == pytest.approx(82.9)
    with pytest.raises(ValueError, match='momentum'):
        LossNormalizer(momentum=1.0)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _rank_update(rank, port, results):
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    torch.distributed.init_process_group('gloo', rank=rank, world_size=2)
    norm = LossNormalizer(init=100.0, momentum=0.9)
    value = norm.update(torch.tensor([3, 17][rank]))
    results[rank] = (value, norm.world_size())
    torch.distributed.destroy_process_group()


def test_normaliser_all_reduces_positives_across_ranks():
    results = mp.get_context('spawn').Manager().dict()
    mp.spawn(_rank_update, args=(_free_port(), results), nprocs=2)
    # both ranks see 3 + 17 positives: 0.9 * 100 + 0.1 * 20
    assert dict(results) == {0: (pytest.approx(92.0), 2),
                             1: (pytest.approx(92.0), 2)}
