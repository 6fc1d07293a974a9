"""Fixed subject splits of public data sets, written down once so that every result uses the same ones.

The ACDC development split holds out 20 of the 100 training patients (4 per group) as a test set; the
other 80 are the pool that training subsets are drawn from. The 20 were drawn once per group with
``numpy.random.default_rng(2017).choice(group, 4, replace=False)`` and are listed here verbatim, so
that the split never depends on code. ACDC groups its patients in order (001-020 DCM, 021-040 HCM,
041-060 MINF, 061-080 NOR, 081-100 ARV): "the last 20" would be one class.
"""

from __future__ import annotations

ACDC_DEV_TEST = tuple(
    f"patient{i:03d}" for i in (2, 8, 11, 17, 21, 28, 32, 38, 43, 45, 46, 57, 62, 72, 73, 78, 90, 91, 95, 98)
)
"""The 20 ACDC test patients of the development split (4 per group)."""
ACDC_DEV_TRAIN = tuple(f"patient{i:03d}" for i in range(1, 101) if f"patient{i:03d}" not in ACDC_DEV_TEST)
"""The 80 ACDC patients training subsets are drawn from."""

SPLITS: dict[str, tuple[str, ...]] = {"acdc-dev-train": ACDC_DEV_TRAIN, "acdc-dev-test": ACDC_DEV_TEST}
"""Named subject lists (``cineaug prepare ... --subjects NAME``)."""


def subject_list(spec: str) -> tuple[str, ...]:
    """A split name of :data:`SPLITS` or a comma-separated list of subject ids.

    Example:
        >>> len(subject_list("acdc-dev-test")), subject_list("patient001,patient002")
        (20, ('patient001', 'patient002'))
    """
    if spec in SPLITS:
        return SPLITS[spec]
    subjects = tuple(s.strip() for s in spec.split(",") if s.strip())
    if not subjects:
        raise ValueError(f"no subjects in {spec!r}: give a split ({', '.join(SPLITS)}) or a comma list")
    return subjects
