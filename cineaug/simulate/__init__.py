"""Built-in cine MRI simulator: seeded analytic hearts scanned with a bSSFP, coil, k-space and noise model.

Example:
    >>> from cineaug.simulate import sample_subject, simulate_cycle
    >>> cycle = simulate_cycle(sample_subject(7, pathology="HCM"), matrix=128)
    >>> cycle.label.shape, sorted(set(cycle.label[0].ravel().tolist()))
    ((20, 128, 128), [0, 1, 2, 3])

See docs/simulator.md for the model, its sources and what it leaves out.
"""

from .cycle import simulate_cycle
from .dataset import simulate_dataset, subject_classes, write_simulated_dataset
from .export import write_acdc_patient, write_sunnybrook_patient
from .gallery import render_gallery
from .params import PATHOLOGY_SETS, SubjectParams, rescan, sample_subject

__all__ = [
    "PATHOLOGY_SETS",
    "SubjectParams",
    "render_gallery",
    "rescan",
    "sample_subject",
    "simulate_cycle",
    "simulate_dataset",
    "subject_classes",
    "write_acdc_patient",
    "write_simulated_dataset",
    "write_sunnybrook_patient",
]
