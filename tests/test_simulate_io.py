"""Writers of the simulator: the prepared cache and the ACDC-layout export."""

from __future__ import annotations

import numpy as np
import pytest

from cineaug import CycleDataset
from cineaug.io import read_acdc
from cineaug.simulate import write_simulated_dataset
from cineaug.types import LV, MYO, RV


def test_cache_holds_prepared_labelled_cycles(tmp_path):
    out = write_simulated_dataset(tmp_path / "sim", n=5, seed=3, size=64, workers=1, progress=False)
    ds = CycleDataset(out)
    assert len(ds) == 5
    items = [ds[i] for i in range(5)]
    assert sorted(str(it.get("pathology", "")) for it in items) == sorted(
        ["NOR", "MINF", "DCM", "HCM", "ARV"]
    )
    for it in items:
        label = np.asarray(it["label"])
        image = np.asarray(it["image"])
        assert label.shape == image.shape == (20, 64, 64)
        assert image.min() >= -1 and image.max() <= 1
        for frame in label:
            assert {RV, MYO, LV} <= set(np.unique(frame).tolist())
        lv = (label == LV).reshape(20, -1).sum(1)
        assert 4 <= int(np.argmin(lv)) <= 10


def test_acdc_export_reads_back(tmp_path):
    root = write_simulated_dataset(tmp_path / "acdc", n=3, seed=4, fmt="acdc", workers=1, progress=False)
    assert sorted(p.name for p in root.iterdir()) == ["patient001", "patient002", "patient003"]
    info = (root / "patient002" / "Info.cfg").read_text()
    assert info.startswith("ED: 1\nES: ") and "Group: MINF" in info and "NbFrame: 20" in info
    cycles = list(read_acdc(root))
    assert [c.subject for c in cycles] == ["patient001", "patient002", "patient003"]
    from cineaug.simulate import sample_subject, simulate_cycle

    original = simulate_cycle(sample_subject(4, "MINF", index=1))
    back = cycles[1]
    assert back.pathology == "MINF" and back.ed_frame == 0 and back.es_frame == original.es_frame
    assert back.image.shape == original.image.shape
    np.testing.assert_allclose(back.image, np.rint(original.image), atol=0.5)
    for f in (0, original.es_frame):
        assert back.labeled[f]
        np.testing.assert_array_equal(back.label[f], original.label[f])
    assert (
        back.spacing[0] == np.float32(original.spacing[0])
        or abs(back.spacing[0] - original.spacing[0]) < 1e-4
    )


def test_prepare_keeps_only_the_requested_subjects(tmp_path):
    from cineaug.data import CycleDataset
    from cineaug.errors import CineDataError
    from cineaug.prepare import prepare_dataset

    root = write_simulated_dataset(tmp_path / "acdc", n=3, seed=4, fmt="acdc", workers=1, progress=False)
    out = tmp_path / "cache"
    prepare_dataset("acdc", root, out, workers=1, progress=False, preview=0, subjects=["patient002"])
    assert CycleDataset(out).subjects == ["patient002"]
    with pytest.raises(CineDataError, match="1 requested subjects not found: patient009"):
        prepare_dataset("acdc", root, tmp_path / "x", workers=1, progress=False, subjects=["patient009"])
