"""The downstream segmentation benchmark: a fixed protocol (quick, field) x arms x seeds x sizes.

Example:
    >>> from cineaug.benchmark import run_benchmark                                     # doctest: +SKIP
    >>> run_benchmark("sim-train/", "sim-test/", ["none", "synthetic"], [2, 4], [0, 1, 2], "bench/",
    ...               generator="progan-sim-64")                                       # doctest: +SKIP
"""

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:  # what the names are, for type checkers and editors; loaded on first use
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
    from .report import headline_rows, paired_by_subject, paired_tests, read_results, render_report
    from .runner import run_benchmark
    from .segmentation import (
        PROTOCOLS,
        Frames,
        Protocol,
        build_model,
        build_optimizer,
        class_scores,
        collate_frames,
        fold_unannotated,
        frame_scores,
        predict,
        score,
        scored_frames,
        segmentation_loss,
        subject_means,
        train_model,
    )
    from .volumes import Volume, predict_volume, score_volumes, volume_scores, volumes_of

__all__ = [
    "ARMS",
    "BASELINE_ARMS",
    "ArmSources",
    "ArmSpec",
    "Cohorts",
    "Fold",
    "added_transform",
    "Frames",
    "PROTOCOLS",
    "Protocol",
    "Volume",
    "arm_spec",
    "build_model",
    "build_optimizer",
    "class_scores",
    "collate_frames",
    "fold_unannotated",
    "frame_scores",
    "needs_generator",
    "needs_renderer",
    "needs_simulator",
    "headline_rows",
    "paired_by_subject",
    "paired_tests",
    "predict",
    "predict_volume",
    "read_results",
    "render_report",
    "run_benchmark",
    "score",
    "score_volumes",
    "scored_frames",
    "segmentation_loss",
    "share_schedule",
    "stratified_order",
    "subject_means",
    "train_model",
    "training_samples",
    "training_transform",
    "volume_scores",
    "volumes_of",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "ARMS": ".arms",
        "BASELINE_ARMS": ".arms",
        "ArmSources": ".arms",
        "ArmSpec": ".arms",
        "added_transform": ".arms",
        "arm_spec": ".arms",
        "needs_generator": ".arms",
        "needs_renderer": ".arms",
        "needs_simulator": ".arms",
        "share_schedule": ".arms",
        "training_transform": ".arms",
        "Cohorts": ".folds",
        "Fold": ".folds",
        "stratified_order": ".folds",
        "training_samples": ".folds",
        "headline_rows": ".report",
        "paired_by_subject": ".report",
        "paired_tests": ".report",
        "read_results": ".report",
        "render_report": ".report",
        "run_benchmark": ".runner",
        "Frames": ".segmentation",
        "PROTOCOLS": ".segmentation",
        "Protocol": ".segmentation",
        "build_model": ".segmentation",
        "build_optimizer": ".segmentation",
        "class_scores": ".segmentation",
        "collate_frames": ".segmentation",
        "fold_unannotated": ".segmentation",
        "frame_scores": ".segmentation",
        "predict": ".segmentation",
        "score": ".segmentation",
        "scored_frames": ".segmentation",
        "segmentation_loss": ".segmentation",
        "subject_means": ".segmentation",
        "train_model": ".segmentation",
        "Volume": ".volumes",
        "predict_volume": ".volumes",
        "score_volumes": ".volumes",
        "volume_scores": ".volumes",
        "volumes_of": ".volumes",
    },
)
