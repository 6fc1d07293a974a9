"""torch.distributed helpers: one code path for a plain process and for ``torchrun`` (gloo / NCCL).

Gradients are averaged by hand after each backward (as stylegan2-ada does) instead of wrapping the
networks in ``DistributedDataParallel``: ProGAN leaves the blocks above the current resolution unused,
R1 and the gradient penalty need double backward, and G and D alternate in one step, which DDP's
hooks handle poorly. One flat all-reduce per network and step is what DDP would do anyway.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class DistInfo:
    """This process's place in the job."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def main(self) -> bool:
        return self.rank == 0


def init_distributed(device: str = "auto") -> DistInfo:
    """Join the process group when launched by ``torchrun`` (``WORLD_SIZE`` > 1), else run alone.

    Args:
        device: "cpu", "cuda" or "auto" (CUDA when available).
    """
    use_cuda = torch.cuda.is_available() if device == "auto" else device.startswith("cuda")
    world = int(os.environ.get("WORLD_SIZE", "1"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    dev = torch.device("cuda", local) if use_cuda else torch.device("cpu")
    if use_cuda:
        torch.cuda.set_device(dev)
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if use_cuda else "gloo")
    rank = dist.get_rank() if dist.is_initialized() else 0
    return DistInfo(rank=rank, world=world, local_rank=local, device=dev)


def is_distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def broadcast_module(module: nn.Module) -> None:
    """Copy rank 0's parameters and buffers to every process."""
    if is_distributed():
        for t in [*module.parameters(), *module.buffers()]:
            dist.broadcast(t.data, src=0)


def average_gradients(module: nn.Module) -> None:
    """Average ``.grad`` over processes with one flat all-reduce (missing grads count as zero)."""
    if not is_distributed():
        return
    params = [p for p in module.parameters() if p.requires_grad]
    for p in params:
        if p.grad is None:
            p.grad = torch.zeros_like(p)
    flat = torch.cat([p.grad.flatten() for p in params])  # [P]
    dist.all_reduce(flat)
    flat /= dist.get_world_size()
    torch.nan_to_num_(flat, nan=0.0, posinf=1e5, neginf=-1e5)
    offset = 0
    for p in params:
        p.grad.copy_(flat[offset : offset + p.numel()].view_as(p))
        offset += p.numel()


def sum_floats(values: tuple[float, ...], device: torch.device) -> tuple[float, ...]:
    """Sum a few floats over processes."""
    if not is_distributed():
        return values
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return tuple(t.tolist())


def gather_rng_states(state: torch.Tensor, device: torch.device) -> torch.Tensor:
    """Every process's RNG state ``[L]`` uint8 -> ``[world,L]`` on the CPU (on all ranks)."""
    if not is_distributed():
        return state[None]
    state = state.to(device)
    out = [torch.empty_like(state) for _ in range(dist.get_world_size())]
    dist.all_gather(out, state)
    return torch.stack(out).cpu()


def barrier() -> None:
    if is_distributed():
        dist.barrier()


def cleanup() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
