"""The fixed segmentation protocols: a MONAI 2D UNet on frames, one loss, optimiser and evaluation.

Every benchmark arm trains with this protocol; only the training transform differs (see
:mod:`cineaug.benchmark.arms`). Frames rather than 2D+t cycles: labels exist per frame (Sunnybrook's
expert contours are at ED and ES only, the rest is propagated), and a frame model is what the
downstream users of these data sets train, so the augmentation effect is measured where it is used.

What a source did not annotate is never penalised nor scored:

- loss: the logits of classes a sample's source does not annotate are *folded into background*
  (marginal loss): background probability = p(bg) + p(unannotated), because a label of 0 there
  means "background or an unannotated class". Synthetic samples annotate what the generator does.
- metrics: Dice and HD95 per class (MONAI's ``DiceMetric``, ``HausdorffDistanceMetric(percentile=95)``)
  only on frames whose labels are exact (expert, partly expert, or simulated: never propagated or
  generated) and only for classes the test source annotates.
"""

from __future__ import annotations

import os
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from queue import Full, Queue
from typing import Any

import numpy as np
import torch
from monai.data import set_track_meta
from monai.losses import DeepSupervisionLoss, DiceCELoss
from monai.metrics import DiceMetric, HausdorffDistanceMetric
from monai.networks.nets import DynUNet, UNet
from monai.utils import set_determinism
from torch import nn

from ..precision import PRECISIONS, autocast, resolve_precision
from ..transforms.synthetic import TISSUE_KEY
from ..types import ALL_CLASSES, CLASS_NAMES, EXACT_SOURCES

BatchTransform = Callable[..., tuple[torch.Tensor, torch.Tensor]]
"""A transform of a whole batch: image, label ``[B,1,H,W]`` (and, for samples left unpainted,
``tissue=``, ``synthetic=``: :func:`collate_tissues`) -> image, label."""
FOLDED = -1.0e4  # logit given to an unannotated class after folding it into background


NETWORKS, OPTIMIZERS, SCORINGS = ("unet", "dynunet"), ("adamw", "sgd"), ("frames", "volumes")
AUGMENTS = ("per-sample", "batched")


@dataclass(frozen=True)
class Protocol:
    """The fixed training protocol shared by all arms; :data:`PROTOCOLS` names the two in use.

    ``steps`` of the quick protocol is where the best real-data baseline (``nnunet``) comes within
    about 0.01 Dice of its plateau on ACDC at 64 px (docs/benchmark.md, training length): 200 steps
    left it 0.08-0.09 below.
    """

    name: str = "quick"  # how reports name it
    size: int = 64  # crop side (px) the caches must have: 64 px over 160 mm is 2.5 mm per pixel
    steps: int = 2000  # optimiser steps (iterations), not epochs: equal work for every arm and size
    batch_size: int = 16  # frames per step
    channels: tuple[int, ...] = (16, 32, 64, 128)  # UNet feature maps per level
    network: str = "unet"  # "unet": MONAI UNet (residual units); "dynunet": MONAI DynUNet as nnU-Net's
    # 2D network (two 3x3 conv + instance norm + leaky ReLU per level, deep supervision while training)
    optimizer: str = "adamw"  # "adamw", or "sgd": Nesterov momentum 0.99 as nnU-Net
    lr: float = 2e-3  # initial learning rate, polynomial decay (power 0.9) to 0 as nnU-Net
    weight_decay: float = 1e-4
    scoring: str = "frames"  # "frames": per-frame scores; "volumes": per-3D-volume scores in the native
    # grid too (required, and the headline), as the challenges report (:mod:`.volumes`)
    augment: str = "per-sample"  # how the nnunet baseline runs: "per-sample" (MONAI's transforms on each
    # frame, as every published cineaug number), or "batched" (on each batch, BatchedNnunetAugment, and
    # a random appearance painted per batch, BatchedCycleAppearance: the same distributions, a
    # fraction of the time; other baselines stay per sample)
    max_test_frames: int | None = None  # cap on scored test frames, evenly spaced (None: all of them)
    threads: int = 2  # torch CPU threads (1 on a machine busy with other work: OpenMP threads then stall)
    device: str = "cpu"  # torch device of the UNet ("cuda" on a GPU machine); transforms stay on the CPU
    precision: str = "fp32"  # the UNet's training arithmetic: "fp32" (every published cineaug number),
    # "auto" (bf16 autocast where the device runs it natively: a GPU, an AVX512-BF16/AMX CPU), "bf16"

    def __post_init__(self) -> None:
        checked = (
            ("network", NETWORKS),
            ("optimizer", OPTIMIZERS),
            ("scoring", SCORINGS),
            ("augment", AUGMENTS),
            ("precision", PRECISIONS),
        )
        for name, allowed in checked:
            if getattr(self, name) not in allowed:
                raise ValueError(
                    f"unknown {name} {getattr(self, name)!r}: choose one of {', '.join(allowed)}"
                )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def replace(self, **changes: Any) -> Protocol:
        """A copy with ``changes`` (e.g. ``steps``, ``threads``, ``device``)."""
        return Protocol(**{**self.to_dict(), **changes})


PROTOCOLS: dict[str, Protocol] = {
    "quick": Protocol(),
    "field": Protocol(name="field", size=128, steps=8000, channels=(16, 32, 64, 128, 256), scoring="volumes"),
    "nnunet2d": Protocol(
        name="nnunet2d",
        size=128,
        steps=12000,
        channels=(32, 64, 128, 256, 512, 512),
        network="dynunet",
        optimizer="sgd",
        lr=1e-2,
        weight_decay=3e-5,
        scoring="volumes",
    ),
}
"""``quick``: 64 px (2.5 mm/px), 4-level UNet, per-frame scores, about 5 min a run on 2 CPU cores (the
demo and CI). ``field``: 128 px over 160 mm (1.25 mm/px, finer than ACDC's 1.37-1.68 mm), a 5-level
UNet, 8000 steps (the ``nnunet`` baseline with 80 ACDC patients: 0.898 mean Dice per volume at 4000,
0.906 at 8000), scored per 3D volume in each patient's native grid as ACDC reports (test caches
prepared with ``--crop image``, which keeps the native labels). ``nnunet2d``: the field protocol's data
and scores with nnU-Net's 2D recipe (DynUNet 32-512, SGD with Nesterov momentum 0.99 from lr 0.01,
poly decay, Dice + CE with deep supervision): the reference a smaller network is measured against
(about 17x the field UNet's compute per step: a GPU's work)."""


def build_model(protocol: Protocol) -> nn.Module:
    """The protocol's network: ``[B,1,H,W]`` frame -> ``[B,4,H,W]`` logits (ACDC classes); a
    ``dynunet`` in training mode returns ``[B,K,4,H,W]``, its K deep-supervision heads at full size."""
    if protocol.network == "dynunet":
        levels = len(protocol.channels)
        return DynUNet(
            spatial_dims=2,
            in_channels=1,
            out_channels=len(CLASS_NAMES),
            kernel_size=[3] * levels,
            strides=[1] + [2] * (levels - 1),
            upsample_kernel_size=[2] * (levels - 1),
            filters=list(protocol.channels),
            norm_name="instance",
            deep_supervision=True,
            deep_supr_num=levels - 2,
        )
    return UNet(
        spatial_dims=2,
        in_channels=1,
        out_channels=len(CLASS_NAMES),
        channels=protocol.channels,
        strides=(2,) * (len(protocol.channels) - 1),
        num_res_units=1,
    )


def fold_unannotated(logits: torch.Tensor, annotated: torch.Tensor) -> torch.Tensor:
    """Fold the classes a sample's source does not annotate into background.

    Args:
        logits: ``[B,C,H,W]``.
        annotated: ``[B,C]`` bool, True where the source annotates the class (background always).

    Returns:
        ``[B,C,H,W]`` logits whose softmax gives background ``p(bg) + sum p(unannotated)`` and 0 to
        unannotated classes (the softmax of the original logits otherwise).
    """
    keep = annotated[:, 1:, None, None].to(logits.device)  # [B,C-1,1,1] foreground classes
    fg = logits[:, 1:]  # [B,C-1,H,W]
    background = torch.logsumexp(
        torch.cat([logits[:, :1], torch.where(keep, FOLDED, fg)], dim=1), dim=1, keepdim=True
    )  # [B,1,H,W]: log(e^bg + sum of unannotated e^c)
    return torch.cat([background, torch.where(keep, fg, FOLDED)], dim=1)


def segmentation_loss(logits: torch.Tensor, label: torch.Tensor, annotated: torch.Tensor) -> torch.Tensor:
    """MONAI ``DiceCELoss`` (softmax, one-hot labels) on logits with unannotated classes folded away.

    Args:
        logits: ``[B,4,H,W]``, or ``[B,K,4,H,W]`` deep-supervision heads (MONAI ``DeepSupervisionLoss``:
            weights halving per head, as nnU-Net); label: ``[B,1,H,W]`` integer ACDC labels;
            annotated: ``[B,4]`` bool.
    """
    dice_ce = DiceCELoss(to_onehot_y=True, softmax=True)
    if logits.dim() == 5:
        heads = [fold_unannotated(h, annotated) for h in logits.unbind(1)]
        return DeepSupervisionLoss(dice_ce, weight_mode="exp")(heads, label)
    return dice_ce(fold_unannotated(logits, annotated), label)


def build_optimizer(protocol: Protocol, model: nn.Module) -> torch.optim.Optimizer:
    """AdamW, or SGD with Nesterov momentum 0.99 (nnU-Net's), at the protocol's lr and weight decay."""
    if protocol.optimizer == "sgd":
        return torch.optim.SGD(
            model.parameters(),
            lr=protocol.lr,
            momentum=0.99,
            nesterov=True,
            weight_decay=protocol.weight_decay,
        )
    return torch.optim.AdamW(model.parameters(), lr=protocol.lr, weight_decay=protocol.weight_decay)


@dataclass
class Frames:
    """A fixed stack of scored test frames."""

    image: torch.Tensor  # [N,1,H,W] float32 in [-1,1]
    label: torch.Tensor  # [N,1,H,W] int64 ACDC labels
    annotated: torch.Tensor  # [N,4] bool, classes the frame's source annotates
    spacing: torch.Tensor  # [N,2] mm
    keys: list[str]  # "cycle key@frame"
    subjects: list[str]  # the subject of each frame


def scored_frames(samples: Sequence[dict[str, Any]], max_frames: int | None = None) -> Frames:
    """The frames to score: labelled (so observed) with exact labels (:data:`~cineaug.types.EXACT_SOURCES`).

    Args:
        samples: cycle samples (:func:`cineaug.data.cycle_to_sample`).
        max_frames: when there are more candidates, keep ``max_frames`` evenly spaced ones
            (deterministic); None keeps every one.
    """
    scored = torch.tensor([int(s) for s in EXACT_SOURCES])
    where = [
        (i, int(t))
        for i, s in enumerate(samples)
        for t in torch.nonzero(s["labeled"] & torch.isin(s["label_source"].long(), scored)).flatten()
    ]
    if not where:
        raise ValueError("no test frame with expert or simulated labels to score")
    if max_frames is not None and len(where) > max_frames:
        where = [where[j] for j in np.unique(np.linspace(0, len(where) - 1, max_frames).round().astype(int))]
    return Frames(
        image=torch.stack([samples[i]["image"][t : t + 1] for i, t in where]).float(),
        label=torch.stack([samples[i]["label"][t : t + 1] for i, t in where]).long(),
        annotated=torch.stack([samples[i]["annotated"] for i, _ in where]),
        spacing=torch.stack([samples[i]["spacing"] for i, _ in where]),
        keys=[f"{samples[i]['key']}@{t}" for i, t in where],
        subjects=[str(samples[i]["subject"]) for i, _ in where],
    )


def collate_frames(items: list[dict[str, Any]]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Frame samples -> image ``[B,1,H,W]`` float, label ``[B,1,H,W]`` int64, annotated ``[B,4]`` bool."""
    image = torch.stack([torch.as_tensor(d["image"]).float() for d in items])  # [B,1,H,W]
    label = torch.stack([torch.as_tensor(d["label"]).round().long() for d in items])  # [B,1,H,W]
    annotated = torch.stack([torch.as_tensor(d["annotated"]).bool() for d in items])  # [B,4]
    return image, label, annotated


def collate_tissues(items: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
    """The tissue maps that samples drawn with ``paint="batch"`` carry, for the batch transform to
    paint: ``{"tissue": [B,1,H,W] uint8, "synthetic": [B] bool}`` (zeros and False for samples that
    carry none, such as the real ones of an ``@+`` arm); ``{}`` where no sample carries one."""
    if not any(TISSUE_KEY in d for d in items):
        return {}
    tissues, synthetic = [], []
    for d in items:
        carried = TISSUE_KEY in d
        shape = torch.as_tensor(d["image"]).shape
        tissues.append(torch.as_tensor(d[TISSUE_KEY]) if carried else torch.zeros(shape, dtype=torch.uint8))
        synthetic.append(carried and bool(d["synthetic"]))
    return {"tissue": torch.stack(tissues).to(torch.uint8), "synthetic": torch.tensor(synthetic)}


def draw_batches(
    samples: Sequence[dict[str, Any]],
    transform: Callable[[dict[str, Any]], dict[str, Any]],
    protocol: Protocol,
    seed: int,
    added: Callable[[dict[str, Any]], dict[str, Any]] | None,
    n_added: int,
    on_step: Callable[[int], object] | None,
    batch_transform: BatchTransform | None = None,
) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Every step's batch, in order: ``on_step(step)``, then ``batch_size`` samples drawn with
    replacement through ``transform`` (and ``n_added`` through ``added``), collated, then through
    ``batch_transform`` (given the tissue maps of samples left unpainted: :func:`collate_tissues`)."""
    rng = np.random.default_rng(seed)
    for step in range(protocol.steps):
        if on_step is not None:
            on_step(step)
        picks = rng.integers(len(samples), size=protocol.batch_size)
        items = [transform(samples[i]) for i in picks]
        if added is not None and n_added:
            items += [added(samples[i]) for i in rng.integers(len(samples), size=n_added)]
        image, label, annotated = collate_frames(items)
        if batch_transform is not None:
            image, label = batch_transform(image, label, **collate_tissues(items))
        yield image, label, annotated


def prefetched(batches: Iterator[Any], depth: int = 2) -> Iterator[Any]:
    """``batches`` drawn on a background thread, up to ``depth`` ahead, in the same order.

    The per-sample transforms (numpy, scipy and torch kernels, which release the GIL) then run while
    the UNet computes the previous step, so a run's wall time approaches the UNet's compute alone
    (``benchmarks/bench_protocol.py``). The draws are made by that one thread in the same order as
    without it: the same seed gives the same batches. An exception on the thread is raised here.
    """
    queue: Queue[tuple[str, Any]] = Queue(maxsize=depth)
    stop = threading.Event()

    def work() -> None:
        try:
            for batch in batches:
                while not stop.is_set():
                    try:
                        queue.put(("batch", batch), timeout=0.1)
                        break
                    except Full:
                        continue
                if stop.is_set():
                    return
            queue.put(("end", None))
        except BaseException as err:  # handed to the consumer, raised there
            queue.put(("error", err))

    thread = threading.Thread(target=work, name="cineaug-batches", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = queue.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        thread.join()


def seed_transforms(
    seed: int, transform: object, added: object = None, batch_transform: object = None
) -> None:
    """Seed a run's transforms as :func:`train_model` does: ``transform`` with ``seed``, ``added``
    with ``seed + 1``, ``batch_transform`` with ``seed + 2`` (those that have ``set_random_state``)."""
    for tf, offset in ((transform, 0), (added, 1), (batch_transform, 2)):
        if hasattr(tf, "set_random_state"):
            tf.set_random_state(seed + offset)


def draws_ahead(protocol: Protocol) -> bool:
    """Whether :func:`train_model` draws batches on a background thread (:func:`prefetched`).

    Yes where the UNet leaves a CPU core free (``protocol.threads`` below the cores this process may
    use) or runs on another device; no where its threads take every core: the drawing thread's own
    torch kernels then start a second OpenMP team that competes with the UNet's, and a run is
    slower than drawing in the loop (``benchmarks/bench_protocol.py``; docs/benchmark.md, Speed).
    """
    if torch.device(protocol.device).type != "cpu":
        return True
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return protocol.threads < cores


def train_model(
    samples: Sequence[dict[str, Any]],
    transform: Callable[[dict[str, Any]], dict[str, Any]],
    protocol: Protocol,
    seed: int,
    added: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    n_added: int = 0,
    on_step: Callable[[int], object] | None = None,
    batch_transform: BatchTransform | None = None,
) -> tuple[nn.Module, float]:
    """Train the protocol's UNet on frames drawn through ``transform`` (the arm).

    Batches are drawn on a background thread while the UNet trains on the previous one
    (:func:`prefetched`) where that thread has a core to itself (:func:`draws_ahead`), in the
    loop otherwise; the draws and their order are the same either way. The forward pass runs
    under bf16 autocast where ``protocol.precision`` resolves to bf16 (weights, optimiser and loss stay
    fp32: :func:`cineaug.precision.resolve_precision`).

    Args:
        samples: training cycle samples (kept in memory; each step draws ``batch_size`` with replacement).
        transform: the arm's training transform, cycle sample -> frame sample ``[1,H,W]``; reseeded
            with ``seed`` when it has ``set_random_state``.
        protocol: the fixed protocol.
        seed: seeds the weights, the sample order and the transform.
        added: a transform whose ``n_added`` samples are added to every batch beside the
            ``batch_size`` ones of ``transform`` (synthetic samples added, none replaced).
        on_step: called with the step index before each step's samples are drawn (an annealed
            share, :func:`~cineaug.benchmark.arms.share_schedule`).
        batch_transform: applied to each collated batch (image, label ``[B,1,H,W]``): the batched
            baseline (:func:`~cineaug.benchmark.arms.batch_transform`); reseeded with ``seed + 2``.

    Returns:
        The trained model (eval mode) and the training time in seconds.
    """
    set_determinism(seed)
    seed_transforms(seed, transform, added, batch_transform)
    device = torch.device(protocol.device)
    precision = resolve_precision(protocol.precision, device)
    model = build_model(protocol).to(device)
    opt = build_optimizer(protocol, model)
    schedule = torch.optim.lr_scheduler.PolynomialLR(opt, total_iters=protocol.steps, power=0.9)
    model.train()
    start = time.perf_counter()
    set_track_meta(False)  # plain tensors: faster transforms, nothing here reads the metadata
    try:
        batches = draw_batches(samples, transform, protocol, seed, added, n_added, on_step, batch_transform)
        for batch in prefetched(batches) if draws_ahead(protocol) else batches:
            image, label, annotated = (t.to(device) for t in batch)
            with autocast(precision, device):
                logits = model(image)
            loss = segmentation_loss(logits.float(), label, annotated)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            schedule.step()
    finally:
        set_track_meta(True)
    return model.eval(), time.perf_counter() - start


@torch.no_grad()
def predict(model: torch.nn.Module, image: torch.Tensor, chunk: int = 64) -> torch.Tensor:
    """Argmax labels ``[N,1,H,W]`` (int64, on the CPU) of frames ``[N,1,H,W]``, run where ``model`` is
    (fp32, whatever the training precision)."""
    model.eval()
    device = next(model.parameters()).device
    chunks = (image[i : i + chunk].to(device) for i in range(0, len(image), chunk))
    return torch.cat([model(x).argmax(1, keepdim=True).cpu() for x in chunks])


def frame_scores(pred: torch.Tensor, frames: Frames) -> tuple[torch.Tensor, torch.Tensor]:
    """Dice and HD95 (mm) of every frame and heart class: two ``[N,3]`` tensors (RV, myocardium, LV).

    A class absent from a frame's truth is not scored there (MONAI's ``ignore_empty``: NaN); a class
    present in the truth but missing from the prediction gets Dice 0 and HD95 = the frame's diagonal
    (worst case); a class the frame's source does not annotate is NaN.
    """
    h, w = pred.shape[-2:]
    diagonal = torch.sqrt((h * frames.spacing[:, 0]) ** 2 + (w * frames.spacing[:, 1]) ** 2)  # [N]
    spacing = [tuple(float(v) for v in sp) for sp in frames.spacing]
    return class_scores(one_hot(pred[:, 0]), one_hot(frames.label[:, 0]), spacing, diagonal, frames.annotated)


def one_hot(labels: torch.Tensor) -> torch.Tensor:
    """``[N,*S]`` integer ACDC labels -> ``[N,4,*S]`` float one-hot."""
    out = torch.nn.functional.one_hot(labels.long(), len(CLASS_NAMES))
    return out.movedim(-1, 1).float()


def class_scores(
    p1: torch.Tensor,
    y1: torch.Tensor,
    spacing: Sequence[Sequence[float]],
    diagonal: torch.Tensor,
    annotated: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Dice and HD95 (mm) per item and heart class, two ``[N,3]`` tensors, of one-hot predictions and
    truths ``[N,4,*S]`` (2D frames or 3D volumes), MONAI's metrics.

    A class absent from the truth is NaN (MONAI's ``ignore_empty``); present in the truth but never
    predicted: Dice 0 and HD95 = ``diagonal`` ``[N]`` (mm, the worst case); a class not ``annotated``
    ``[N,4]`` is NaN. ``spacing``: each item's pixel size per spatial axis, mm.
    """
    dice = DiceMetric(include_background=False, reduction="none")(p1, y1)  # [N,3]
    with warnings.catch_warnings():  # empty truth / prediction: handled below
        warnings.simplefilter("ignore")
        hd = HausdorffDistanceMetric(percentile=95, reduction="none")(p1, y1, spacing=list(spacing))  # [N,3]
    missed = y1[:, 1:].flatten(2).any(-1) & ~p1[:, 1:].flatten(2).any(-1)  # [N,3]
    hd = torch.where(missed, diagonal[:, None].to(hd).expand_as(hd), hd)
    unscored = ~annotated[:, 1:]
    dice[unscored], hd[unscored] = float("nan"), float("nan")
    return dice, hd


def class_means(values: torch.Tensor, metric: str) -> dict[str, float]:
    """``<metric>_<class>`` means over frames ``[N,3]`` (NaN when never scored) and their mean."""
    out: dict[str, float] = {}
    for c in ALL_CLASSES:
        col = values[:, c - 1]
        out[f"{metric}_{CLASS_NAMES[c]}"] = float(col.nanmean()) if (~col.isnan()).any() else float("nan")
    means = [out[f"{metric}_{CLASS_NAMES[c]}"] for c in ALL_CLASSES]
    out[f"{metric}_mean"] = float(np.nanmean(means)) if not np.isnan(means).all() else float("nan")
    return out


def score(pred: torch.Tensor, frames: Frames) -> dict[str, float]:
    """Per-class Dice and HD95 (mm) means over the frames, for annotated classes only (:func:`frame_scores`).

    Returns:
        ``dice_<class>``, ``hd95_<class>`` for rv, myocardium and lv (NaN when never scored) and
        ``dice_mean``, ``hd95_mean`` over the scored classes.
    """
    dice, hd = frame_scores(pred, frames)
    return {**class_means(dice, "dice"), **class_means(hd, "hd95")}


def subject_means(
    dice: torch.Tensor, hd: torch.Tensor, subjects: Sequence[str]
) -> dict[str, dict[str, float]]:
    """Mean Dice and HD95 over classes per test subject, from :func:`frame_scores`' ``[N,3]`` tensors.

    Returns:
        ``{"dice_by_subject": {subject: v}, "hd95_by_subject": {...}}``: each value is :func:`score`'s
        ``*_mean`` on that subject's frames alone, the unit a paired test over test patients compares.
    """
    names = np.array(subjects)
    out: dict[str, dict[str, float]] = {"dice_by_subject": {}, "hd95_by_subject": {}}
    for subject in sorted(set(subjects)):
        rows = torch.from_numpy(names == subject)
        out["dice_by_subject"][subject] = class_means(dice[rows], "dice")["dice_mean"]
        out["hd95_by_subject"][subject] = class_means(hd[rows], "hd95")["hd95_mean"]
    return out
