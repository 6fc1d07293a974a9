"""The data kinds cineaug reads, by name only (importing it costs nothing): the readers are
:data:`cineaug.io.READERS`, the sources of a cache :data:`cineaug.prepare.SOURCES`."""

READER_KINDS: tuple[str, ...] = ("sunnybrook", "acdc", "mnms", "nifti", "dicom")
"""Real data sets and formats, in the order ``cineaug prepare --help`` lists them."""
KINDS: tuple[str, ...] = (*READER_KINDS, "simulator")
"""Everything ``cineaug prepare KIND`` takes: the readers' kinds and the built-in simulator."""
