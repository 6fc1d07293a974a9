"""Built-in cine MRI simulator: seeded analytic hearts scanned with a bSSFP, coil, k-space and noise model.

Example:
    >>> from cineaug.simulate import sample_subject, simulate_cycle
    >>> cycle = simulate_cycle(sample_subject(7, pathology="HCM"), matrix=128)
    >>> cycle.label.shape, sorted(set(cycle.label[0].ravel().tolist()))
    ((20, 128, 128), [0, 1, 2, 3])

See docs/simulator.md for the model, its sources and what it leaves out. A prepared cache of
simulated subjects is written by ``cineaug prepare simulator`` (:func:`cineaug.prepare.prepare_dataset`),
like any other data set (or :func:`cineaug.prepare.write_simulated_dataset`); this package is its
source (:func:`read_simulator`) and imports nothing above it.
"""

from .cycle import simulate_cycle
from .dataset import (
    SimulatedSubject,
    read_simulator,
    simulate_dataset,
    simulated_subjects,
    simulator_options,
    subject_classes,
    write_acdc_dataset,
)
from .export import write_acdc_patient, write_sunnybrook_patient
from .gallery import render_gallery
from .params import PATHOLOGY_SETS, SubjectParams, rescan, sample_subject

__all__ = [
    "PATHOLOGY_SETS",
    "SimulatedSubject",
    "SubjectParams",
    "read_simulator",
    "render_gallery",
    "rescan",
    "sample_subject",
    "simulate_cycle",
    "simulate_dataset",
    "simulated_subjects",
    "simulator_options",
    "subject_classes",
    "write_acdc_dataset",
    "write_acdc_patient",
    "write_sunnybrook_patient",
]
