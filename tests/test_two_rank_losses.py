"""Two real gloo processes train like one process with both videos, also
with ActionFormer's adaptive regression weight (``loss_reg.loss_weight
<= 0``), which must come from the losses of the whole global batch."""
import os
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def grads_of(head, feats, masks, samples):
    head.zero_grad()
    sum(head.loss(feats, masks, samples).values()).backward()
    return {n: p.grad.clone() for n, p in head.named_parameters()}


def head_and_batch(reg_weight):
    import asl_mmaction  # noqa: F401  (registers the modules)
    from mmengine.registry import init_default_scope
    init_default_scope('mmaction')
    from test_asl_head import make_head, make_inputs, make_samples
    from mmaction.registry import MODELS  # noqa: F401
    head = make_head(loss_reg=dict(type='DIoULoss1D',
                                   loss_weight=reg_weight))
    feats, masks = make_inputs(valid_len=(16, 16))
    return head, feats, masks, make_samples()


def rank_worker(rank, world, port, out_dir, reg_weight):
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group('gloo', rank=rank, world_size=world)
    try:
        head, feats, masks, samples = head_and_batch(reg_weight)
        grads = grads_of(head, tuple(f[rank:rank + 1] for f in feats),
                         tuple(m[rank:rank + 1] for m in masks),
                         samples[rank:rank + 1])
        torch.save(grads, os.path.join(out_dir, f'rank{rank}.pt'))
    finally:
        dist.destroy_process_group()


@pytest.mark.parametrize('reg_weight', [1.0, 0.0],
                         ids=['fixed_weight', 'adaptive_weight'])
def test_two_processes_equal_one_with_the_global_batch(tmp_path, reg_weight):
    head, feats, masks, samples = head_and_batch(reg_weight)
    single = grads_of(head, feats, masks, samples)
    mp.spawn(rank_worker, args=(2, free_port(), str(tmp_path), reg_weight),
             nprocs=2, join=True)
    ranks = [torch.load(tmp_path / f'rank{r}.pt') for r in range(2)]
    worst = 0.0
    for name, grad in single.items():
        averaged = (ranks[0][name] + ranks[1][name]) / 2  # what DDP does
        err = (averaged - grad).abs().max() / grad.abs().max().clamp(1e-12)
        worst = max(worst, float(err))
    assert worst < 1e-4, worst
