"""``python -m cineaug.training --preset P --out RUN (--data CACHE | --simulate) [--resume]``.

The same entry point runs under ``torchrun --nproc_per_node N -m cineaug.training ...`` (DDP).
"""

from .cli import main

main()
