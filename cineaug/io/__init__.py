"""Readers: one module per source, each ``read_*`` yielding raw :class:`~cineaug.types.CineCycle` s.

Raw cycles keep native frames, resolution and intensities; :func:`cineaug.preprocess.prepare_cycle`
turns them into the prepared form. Bad input raises :class:`~cineaug.errors.CineDataError`, or is
skipped and recorded through a :class:`~cineaug.errors.ReadLog`.
"""

from .acdc import read_acdc
from .dicom import read_dicom_series
from .mnms import read_mnms
from .nifti import read_nifti
from .sunnybrook import read_sunnybrook

READERS = {
    "sunnybrook": read_sunnybrook,
    "acdc": read_acdc,
    "mnms": read_mnms,
    "nifti": read_nifti,
    "dicom": read_dicom_series,
}
"""Reader per data kind, one signature: ``reader(path, log=ReadLog) -> Iterator[CineCycle]``.
:data:`cineaug.prepare.SOURCES` (the kinds of ``cineaug prepare``) is this table plus the simulator."""

__all__ = ["READERS", "read_acdc", "read_dicom_series", "read_mnms", "read_nifti", "read_sunnybrook"]
