"""Writers of the simulator: the prepared cache and the ACDC-layout export."""

from __future__ import annotations

import numpy as np
import pytest

from cineaug import CycleDataset
from cineaug.io import read_acdc
from cineaug.prepare import write_simulated_dataset
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


def test_the_simulator_is_a_source_of_prepare(tmp_path):
    from cineaug.cache import read_cycle, read_index
    from cineaug.prepare import prepare_dataset
    from cineaug.preprocess import prepare_cycle
    from cineaug.simulate import sample_subject, simulate_cycle

    index_path = prepare_dataset(
        "simulator", "n=2,seed=3", tmp_path / "c", workers=1, progress=False, preview=0
    )
    index = read_index(index_path.parent)
    assert index["source"] == "simulator" and index["counts"]["cycles"] == 2 and index["skipped"] == []
    assert (
        index["info"]["input"] == {"n": 2, "seed": 3, "label_set": "acdc"} and index["info"]["fov_mm"] == 160
    )
    for i, (entry, pathology) in enumerate(zip(index["cycles"], ("NOR", "MINF"))):
        expected = prepare_cycle(simulate_cycle(sample_subject(3, pathology, index=i)), size=64)
        got = read_cycle(index_path.parent, entry)
        assert got.subject == f"sim000003-{i:05d}" and got.pathology == pathology
        np.testing.assert_array_equal(got.image, expected.image)
        np.testing.assert_array_equal(got.label, expected.label)


def test_simulated_cache_is_the_same_on_worker_processes_and_keeps_requested_subjects(tmp_path):
    from cineaug.cache import read_index
    from cineaug.prepare import prepare_dataset

    kw = dict(progress=False, preview=0)
    one = read_index(
        prepare_dataset("simulator", {"n": 3, "seed": 5}, tmp_path / "a", workers=1, **kw).parent
    )
    two = read_index(
        prepare_dataset("simulator", {"n": 3, "seed": 5}, tmp_path / "b", workers=2, **kw).parent
    )
    assert [e["sha256"] for e in one["cycles"]] == [e["sha256"] for e in two["cycles"]]
    some = prepare_dataset(
        "simulator", {"n": 3, "seed": 5}, tmp_path / "c", workers=1, subjects=["sim000005-00002"], **kw
    )
    assert [e["key"] for e in read_index(some.parent)["cycles"]] == [one["cycles"][2]["key"]]


def test_write_simulated_dataset_passes_prepare_options(tmp_path):
    from cineaug.cache import read_index

    out = write_simulated_dataset(
        tmp_path / "s", n=1, seed=2, size=32, fov_mm=200.0, workers=1, progress=False
    )
    index = read_index(out)
    assert index["info"]["fov_mm"] == 200.0 and index["info"]["size"] == 32
    assert CycleDataset(out)[0]["spacing"].tolist() == [200 / 32, 200 / 32]
    assert (out / "preview.gif").is_file()


def test_simulator_options_fill_defaults_and_name_what_is_wrong():
    from cineaug.simulate import SimulatedSubject, read_simulator, simulator_options

    assert simulator_options("") == {"n": 100, "seed": 0, "label_set": "acdc"}
    assert simulator_options(" n = 7 ,label_set=sunnybrook") == {"n": 7, "seed": 0, "label_set": "sunnybrook"}
    assert read_simulator({"n": 2, "seed": 4}) == [
        SimulatedSubject(4, 0, "NOR"),
        SimulatedSubject(4, 1, "MINF"),
    ]
    for bad, message in [
        ("n=2,colour=red", "unknown simulator option 'colour'; known: n, seed, label_set"),
        ("n=two", "simulator option n must be an integer, got 'two'"),
        ("n=0", "need n >= 1 and seed >= 0, got n=0"),
        ("label_set=mnms", "label_set must be one of"),
        ("n:3", "write key=value pairs"),
    ]:
        with pytest.raises(ValueError, match=message):
            simulator_options(bad)


def test_a_recipe_travels_to_a_worker_as_it_is_and_is_made_there():
    from cineaug.prepare import pack_observed, unpack_observed
    from cineaug.simulate import SimulatedSubject, sample_subject, simulate_cycle

    recipe = SimulatedSubject(seed=1, index=3, pathology="DCM")
    assert pack_observed(recipe) is recipe and recipe.subject == "sim000001-00003"
    made = unpack_observed(recipe)
    np.testing.assert_array_equal(made.image, simulate_cycle(sample_subject(1, "DCM", index=3)).image)
    assert made.subject == recipe.subject
