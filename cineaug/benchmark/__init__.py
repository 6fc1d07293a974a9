"""The downstream segmentation benchmark: a fixed frame-wise protocol x augmentation arms x seeds x sizes.

Example:
    >>> from cineaug.benchmark import run_benchmark                                     # doctest: +SKIP
    >>> run_benchmark("sim-train/", "sim-test/", ["none", "synthetic"], [2, 4], [0, 1, 2], "bench/",
    ...               generator="progan-sim-64")                                       # doctest: +SKIP
"""

from .arms import (
    ARMS,
    BASELINE_ARMS,
    ArmSources,
    ArmSpec,
    added_transform,
    arm_spec,
    needs_generator,
    needs_renderer,
    needs_simulator,
    share_schedule,
    training_transform,
)
from .folds import Cohorts, Fold, stratified_order, training_samples
from .report import paired_by_subject, paired_tests, read_results, render_report
from .runner import run_benchmark
from .segmentation import (
    Frames,
    Protocol,
    fold_unannotated,
    frame_scores,
    predict,
    score,
    scored_frames,
    segmentation_loss,
    subject_means,
    train_model,
)

__all__ = [
    "ARMS",
    "BASELINE_ARMS",
    "ArmSources",
    "ArmSpec",
    "Cohorts",
    "Fold",
    "added_transform",
    "Frames",
    "Protocol",
    "arm_spec",
    "fold_unannotated",
    "frame_scores",
    "needs_generator",
    "needs_renderer",
    "needs_simulator",
    "paired_by_subject",
    "paired_tests",
    "predict",
    "read_results",
    "render_report",
    "run_benchmark",
    "score",
    "scored_frames",
    "segmentation_loss",
    "share_schedule",
    "stratified_order",
    "subject_means",
    "train_model",
    "training_samples",
    "training_transform",
]
