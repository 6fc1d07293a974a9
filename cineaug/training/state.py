"""Training state for lossless resume: ``training-state-NNNNNN.safetensors`` + ``.json``, no pickle.

The safetensors file holds every tensor: the networks (``G.``, ``D.``, ``G_ema.``), the Adam moments
(``optG.<param index>.<name>``) and the torch RNG state of every process (``rng.torch`` ``[world,L]``,
``rng.cuda`` likewise on GPU). The JSON sidecar, written second, holds the rest: images seen, step
counters, augmentation strength, optimizer hyper-parameters, the numpy and python RNG states, and the
sha256 of the tensor file. A state counts only once its JSON exists, so a run killed mid-write resumes
from the previous state.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save
from torch import nn

from ..atomic import atomic_write_bytes, atomic_write_json
from .distributed import gather_rng_states

STATE_RE = re.compile(r"training-state-(\d+)\.json$")


def state_name(images_seen: int) -> str:
    return f"training-state-{images_seen:06d}"


def optimizer_tensors(
    prefix: str, opt: torch.optim.Optimizer
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Split an optimizer's state dict into tensors (safetensors) and JSON (hyper-parameters)."""
    sd = opt.state_dict()
    tensors = {
        f"{prefix}.{idx}.{name}": v.detach().cpu().contiguous().clone()
        for idx, st in sd["state"].items()
        for name, v in st.items()
        if torch.is_tensor(v)
    }
    return tensors, {"param_groups": sd["param_groups"]}


def load_optimizer(
    prefix: str, opt: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], meta: dict
) -> None:
    """Inverse of :func:`optimizer_tensors`."""
    state: dict[int, dict[str, torch.Tensor]] = {}
    for key, v in tensors.items():
        if key.startswith(prefix + "."):
            _, idx, name = key.split(".", 2)
            state.setdefault(int(idx), {})[name] = v
    opt.load_state_dict({"state": state, "param_groups": meta["param_groups"]})


def capture_rng(device: torch.device) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """RNG states: torch (all processes) as tensors; numpy and python (this process) as JSON."""
    tensors = {"rng.torch": gather_rng_states(torch.get_rng_state(), device)}
    if device.type == "cuda":
        tensors["rng.cuda"] = gather_rng_states(torch.cuda.get_rng_state(device), device)
    kind, keys, pos, has_gauss, gauss = np.random.get_state()  # noqa: NPY002 (the legacy global state is what we save)
    py_version, py_state, py_gauss = random.getstate()
    meta = {
        "numpy": {"kind": kind, "keys": keys.tolist(), "pos": pos, "has_gauss": has_gauss, "gauss": gauss},
        "python": {"version": py_version, "state": list(py_state), "gauss": py_gauss},
    }
    return tensors, meta


def restore_rng(
    tensors: dict[str, torch.Tensor], meta: dict[str, Any], rank: int, device: torch.device
) -> bool:
    """Restore this process's RNG states; False if the state was saved by fewer processes."""
    states = tensors["rng.torch"]
    if rank >= states.shape[0]:
        return False
    torch.set_rng_state(states[rank].clone())
    if device.type == "cuda" and "rng.cuda" in tensors:
        torch.cuda.set_rng_state(tensors["rng.cuda"][rank].clone(), device)
    n = meta["numpy"]
    np.random.set_state(  # noqa: NPY002
        (n["kind"], np.asarray(n["keys"], np.uint32), n["pos"], n["has_gauss"], n["gauss"])
    )
    p = meta["python"]
    random.setstate((p["version"], tuple(p["state"]), p["gauss"]))
    return True


def save_training_state(
    run_dir: Path,
    images_seen: int,
    modules: dict[str, nn.Module],
    optimizers: dict[str, torch.optim.Optimizer],
    rng: tuple[dict[str, torch.Tensor], dict[str, Any]],
    extra: dict[str, Any],
) -> Path:
    """Write ``training-state-NNNNNN.safetensors`` then its ``.json`` (both atomically)."""
    tensors: dict[str, torch.Tensor] = {}
    meta: dict[str, Any] = {"images_seen": images_seen, **extra, "optimizers": {}, "rng": rng[1]}
    for name, m in modules.items():
        tensors.update(
            {f"{name}.{k}": v.detach().cpu().contiguous().clone() for k, v in m.state_dict().items()}
        )
    for name, opt in optimizers.items():
        t, j = optimizer_tensors(name, opt)
        tensors.update(t)
        meta["optimizers"][name] = j
    tensors.update(rng[0])
    data = st_save(tensors)
    base = run_dir / state_name(images_seen)
    atomic_write_bytes(base.with_suffix(".safetensors"), data)
    meta["sha256"] = hashlib.sha256(data).hexdigest()
    atomic_write_json(base.with_suffix(".json"), meta)
    return base.with_suffix(".json")


def latest_training_state(run_dir: Path) -> Path | None:
    """The JSON of the newest complete training state in ``run_dir``, or None."""
    found = sorted(
        (int(m.group(1)), p) for p in run_dir.glob("training-state-*.json") if (m := STATE_RE.search(p.name))
    )
    for _, path in reversed(found):
        if path.with_suffix(".safetensors").is_file():
            return path
    return None


def load_training_state(json_path: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Read a training state; raises ValueError if the tensor file does not match its sha256."""
    meta = json.loads(json_path.read_text())
    data = json_path.with_suffix(".safetensors").read_bytes()
    if hashlib.sha256(data).hexdigest() != meta["sha256"]:
        raise ValueError(f"{json_path.with_suffix('.safetensors')}: content does not match its sha256")
    return st_load(data), meta


def load_modules(tensors: dict[str, torch.Tensor], modules: dict[str, nn.Module]) -> None:
    for name, m in modules.items():
        prefix = name + "."
        m.load_state_dict({k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)})


def prune_training_states(run_dir: Path, keep: int = 2) -> None:
    """Delete all but the newest ``keep`` training states (JSON first, so none is half-present)."""
    found = sorted(
        (int(m.group(1)), p) for p in run_dir.glob("training-state-*.json") if (m := STATE_RE.search(p.name))
    )
    for _, path in found[:-keep]:
        path.unlink(missing_ok=True)
        path.with_suffix(".safetensors").unlink(missing_ok=True)
