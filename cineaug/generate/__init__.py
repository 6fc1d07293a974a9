"""Running trained networks to make synthetic data: live pools, banks, rendered banks and their writers.

- :class:`SyntheticPool`: a generator's cycles drawn in batches, handed out one at a time;
- :class:`SyntheticBank`: cycles written earlier (``cineaug sample``, ``render``, ``simulate``),
  memory-mapped and drawn at random;
- :class:`RenderedAppearance`: a label renderer painting tissue maps with learnt texture;
- writers: :func:`write_bank` (a generator's cycles), :func:`write_rendered_bank` (label cycles
  painted by a renderer), :func:`package_model` (a shipped model folder with its samples).

The MONAI transforms (:mod:`cineaug.transforms`) draw from these; training publishes the models they
run and imports nothing of this package.
"""

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:  # what the names are, for type checkers and editors; loaded on first use
    from .bank import SyntheticBank, cycle_source
    from .package import package_model
    from .pool import SyntheticPool, run_generator
    from .render_bank import weights_digest, write_rendered_bank
    from .rendered import RenderedAppearance
    from .sample import draw_cycles, generate_cycles, write_bank

__all__ = [
    "RenderedAppearance",
    "SyntheticBank",
    "SyntheticPool",
    "cycle_source",
    "draw_cycles",
    "generate_cycles",
    "package_model",
    "run_generator",
    "weights_digest",
    "write_bank",
    "write_rendered_bank",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "SyntheticBank": ".bank",
        "cycle_source": ".bank",
        "package_model": ".package",
        "SyntheticPool": ".pool",
        "run_generator": ".pool",
        "weights_digest": ".render_bank",
        "write_rendered_bank": ".render_bank",
        "RenderedAppearance": ".rendered",
        "draw_cycles": ".sample",
        "generate_cycles": ".sample",
        "write_bank": ".sample",
    },
)
