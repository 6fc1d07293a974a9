"""Where a benchmark's synthetic arms draw from: the generator, banks and renderer, opened once, and
the renderer of each fold.

A fold's renderer is fine-tuned on the fold's training subjects by a callable that the caller hands
in (``cineaug benchmark --renderer-finetune N`` builds :class:`cineaug.training.FoldRendererFinetune`):
the benchmark runs trained networks (:mod:`cineaug.generate`) but never trains one.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from torch import nn

from ..data import CycleDataset
from ..generate import SyntheticBank, SyntheticPool, write_rendered_bank
from ..pretrained import load_pretrained
from ..viz import save_cycles_gif
from .arms import ArmSources, ArmSpec, needs_generator, needs_renderer, needs_simulator, training_transform

RENDERED_CYCLES = 250  # simulator cycles a renderer paints per fold (5000 frames: more than a run draws)
SYNTHETIC_GIF = "synthetic_cycles.gif"

FoldFinetune = Callable[[list[str], Path, int], nn.Module]
"""``(training subjects, run folder, seed) -> renderer``: fine-tunes a renderer for one fold."""


@dataclass
class BenchmarkSources:
    """The sources of every fold (:attr:`arms`), what they were given as, and the fold renderer's maker.

    Build it with :meth:`open`.
    """

    arms: ArmSources
    model_name: str | None = None  # the generator's registry name or folder, when given as one
    renderer_source: str | os.PathLike | None = None  # the renderer's name or folder, when given as one
    finetune: FoldFinetune | None = None

    @classmethod
    def open(
        cls,
        generator: nn.Module | str | os.PathLike | None = None,
        bank: str | os.PathLike | None = None,
        sim_bank: str | os.PathLike | None = None,
        renderer: nn.Module | str | os.PathLike | None = None,
        finetune: FoldFinetune | None = None,
    ) -> BenchmarkSources:
        """Load what is named (models by :func:`~cineaug.pretrained.load_pretrained`, banks opened).

        Raises:
            ValueError: a generator and a bank together; ``finetune`` without a renderer run folder.
        """
        model_name = None
        if isinstance(generator, (str, os.PathLike)):
            model_name, generator = str(generator), load_pretrained(generator)
        renderer_source = None if isinstance(renderer, nn.Module) else renderer
        if finetune is not None and renderer_source is None:
            raise ValueError("renderer_finetune needs the renderer's training run folder (renderer=RUN)")
        if renderer_source is not None and finetune is None:
            renderer = load_pretrained(renderer_source)
        arms = ArmSources(generator=generator, bank=bank, sim_bank=sim_bank, renderer=renderer)
        return cls(arms, model_name, renderer_source, finetune)

    def provides(self, spec: ArmSpec) -> bool:
        """Whether the arm's synthetic source was given."""
        a = self.arms
        return (
            (a.generator is not None or a.bank is not None or not needs_generator(spec))
            and (a.sim_bank is not None or not needs_simulator(spec))
            and (a.renderer is not None or not needs_renderer(spec))
        )

    def runnable(self, specs: Sequence[ArmSpec]) -> tuple[list[ArmSpec], list[str]]:
        """The arms whose sources were given (built once, to fail early on a bad one) and the names of
        the others, skipped with a warning."""
        run = [s for s in specs if self.provides(s)]
        skipped = [s.name for s in specs if not self.provides(s)]
        if skipped:
            warnings.warn(
                f"skipping the synthetic arms {', '.join(skipped)}: "
                "their source was not given (--model/--bank, --sim-bank, --renderer)",
                stacklevel=3,
            )
        for spec in run:  # a fine-tuned renderer exists only per fold
            if not (self.finetune is not None and needs_renderer(spec)):
                # a jittered rendered bank is painted per fold: the simulator bank stands in for it here
                stand_in = self.arms.rendered_sim_bank or self.arms.sim_bank
                training_transform(spec, replace(self.arms, rendered_sim_bank=stand_in))
        return run, skipped

    def for_fold(
        self, out: Path, fold: str, subjects: list[str], seed: int, todo: Sequence[ArmSpec]
    ) -> ArmSources:
        """The sources of one fold: with render arms to run, the fold's renderer (fine-tuned on its
        ``subjects`` when :attr:`finetune` is set, in ``out/renderers/<fold>/``) and, for
        ``sim-render``, the first :data:`RENDERED_CYCLES` simulator cycles painted by it
        (``out/rendered/<fold or "shared">/``)."""
        if not any(needs_renderer(s) for s in todo):
            return self.arms
        renderer = self.arms.renderer
        if self.finetune is not None:
            renderer = self.finetune(subjects, out / "renderers" / fold, seed)
        if self.arms.sim_bank is None or not any(needs_simulator(s) for s in todo):
            return replace(self.arms, renderer=renderer)
        folder = out / "rendered" / (fold if self.finetune is not None else "shared")
        bank = write_rendered_bank(
            renderer, self.arms.sim_bank.root, folder, n=RENDERED_CYCLES, progress=False
        )
        return replace(self.arms, renderer=renderer, rendered_sim_bank=SyntheticBank(bank))

    def check_renderer_origin(self, specs: Sequence[ArmSpec], test_subjects: set[str]) -> None:
        """Refuse a renderer run trained (or started from a run trained) on real test subjects; warn when
        it saw real data at all, whose texture the synthetic arms then carry beside the fold's own.

        Follows ``init_from`` through run folders (their ``options.json``); a shipped model folder records
        no training data and is left to its card.
        """
        if self.renderer_source is None or not any(needs_renderer(s) for s in specs):
            return
        run, seen = Path(self.renderer_source), set()
        while (run / "options.json").is_file() and run not in seen:
            seen.add(run)
            saved = json.loads((run / "options.json").read_text())
            config = saved.get("config", {})
            if not saved.get("simulate") and saved.get("data"):
                data = Path(saved["data"])
                data = data if data.is_absolute() or data.exists() else run.parent / data
                trained = set(
                    config.get("subjects") or (CycleDataset(data).subjects if data.is_dir() else ())
                )
                if trained & test_subjects:
                    raise ValueError(
                        f"renderer {run} was trained on test subjects {sorted(trained & test_subjects)[:5]} "
                        f"(data {data}): start from a renderer that never saw them, e.g. render-sim-64's run"
                    )
                warnings.warn(
                    f"renderer {run} was trained on real data ({data}): the synthetic arms carry its "
                    "texture beside the fold's own (no test subject found in it)",
                    stacklevel=3,
                )
            if not config.get("init_from"):
                break
            run = Path(config["init_from"])

    def save_gif(self, out: Path, n: int = 8) -> None:
        """``out/synthetic_cycles.gif``: ``n`` cycles of the generator or bank (classes in turn), if any."""
        a = self.arms
        if a.generator is None and a.bank is None:
            return
        pool = a.bank if a.bank is not None else SyntheticPool(a.generator, batch_size=8)
        pool.reseed(0)
        cycles = [pool.take(i % pool.n_classes if pool.n_classes else None) for i in range(n)]
        save_cycles_gif(
            out / SYNTHETIC_GIF, [c[0].float().numpy() for c in cycles], [c[1].numpy() for c in cycles]
        )

    def describe(self) -> dict:
        """What ``benchmark.json`` records of the sources."""
        a = self.arms
        name = lambda given, module: str(given) if given is not None else module and type(module).__name__  # noqa: E731
        return {
            "generator": name(self.model_name, a.generator),
            "bank": None if a.bank is None else str(a.bank.root),
            "sim_bank": None if a.sim_bank is None else str(a.sim_bank.root),
            "renderer": name(self.renderer_source, a.renderer),
            "renderer_finetune": None if self.finetune is None else repr(self.finetune),
            "renderer_finetune_images": getattr(self.finetune, "images", 0),
        }
