"""The cache: round trip, atomic writes, and detection of truncated or altered files."""

from __future__ import annotations

import dataclasses
import hashlib
import json

import numpy as np
import pytest
from conftest import disk_cycle, key_frame_cycle
from safetensors.numpy import save as st_save

from cineaug import CacheWriter, CineDataError, CycleDataset, prepare_cycle
from cineaug.atomic import atomic_write_bytes
from cineaug.cache import read_cycle, read_index
from cineaug.types import UNOBSERVED_FILL


@pytest.fixture
def cache(tmp_path):
    cycle, _ = disk_cycle()
    prepared = prepare_cycle(cycle, size=32, fov_mm=100.0)
    with CacheWriter(tmp_path / "c", source="test", info={"note": "unit test"}) as writer:
        writer.add(prepared)
    return tmp_path / "c", prepared


def test_round_trip_is_exact(cache):
    root, prepared = cache
    index = read_index(root)
    assert index["counts"]["cycles"] == 1 and index["info"] == {"note": "unit test"}
    assert index["counts"]["frames_by_label_source"] == {"expert": 2, "propagated": 18}
    back = read_cycle(root, index["cycles"][0])
    np.testing.assert_array_equal(back.image, prepared.image)
    np.testing.assert_array_equal(back.label, prepared.label)
    np.testing.assert_array_equal(back.label_source, prepared.label_source)
    assert back.metadata() == prepared.metadata()


def test_truncated_file_is_reported(cache):
    root, _ = cache
    path = next((root / "cycles").iterdir())
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(CineDataError, match="truncated or half-written"):
        CycleDataset(root)[0]


def test_altered_file_is_reported(cache):
    root, _ = cache
    path = next((root / "cycles").iterdir())
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CineDataError, match="sha256"):
        CycleDataset(root)[0]


def test_missing_or_foreign_index(tmp_path):
    with pytest.raises(CineDataError, match="no dataset.json"):
        CycleDataset(tmp_path)
    (tmp_path / "dataset.json").write_text(json.dumps({"format": "other"}))
    with pytest.raises(CineDataError, match="unknown cache format"):
        CycleDataset(tmp_path)


def test_atomic_write_leaves_the_old_file_on_failure(tmp_path):
    path = tmp_path / "f.bin"
    atomic_write_bytes(path, b"old")

    with pytest.raises(TypeError):
        atomic_write_bytes(path, object())  # type: ignore[arg-type]
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]  # no temporary file left behind


def test_writer_refuses_unprepared_cycles(tmp_path):
    cycle, _ = disk_cycle(t=30)
    with pytest.raises(ValueError, match="30 frames, expected 20"):
        CacheWriter(tmp_path, "test").add(cycle)


def test_key_frame_cycles_are_counted_and_round_trip(tmp_path):
    with CacheWriter(tmp_path, source="test") as writer:
        writer.add(
            dataclasses.replace(prepare_cycle(key_frame_cycle(), size=32, fov_mm=100.0), slice_index=1)
        )
        writer.add(prepare_cycle(disk_cycle()[0], size=32, fov_mm=100.0))
    index = read_index(tmp_path)
    assert index["counts"]["key_frame_cycles"] == 1 and index["counts"]["warnings"] == 0
    assert [e["observed_frames"] for e in index["cycles"]] == [2, 20]
    back = read_cycle(tmp_path, index["cycles"][0])
    assert np.flatnonzero(back.observed).tolist() == [0, 7]
    assert np.all(back.image[~back.observed] == UNOBSERVED_FILL)
    sample = CycleDataset(tmp_path)[0]
    assert sample["observed"].tolist() == back.observed.tolist()


def test_cache_written_before_observed_reads_all_observed(cache):
    root, prepared = cache
    index = read_index(root)
    entry = index["cycles"][0]
    meta = prepared.metadata()
    del meta["observed"]
    data = st_save({"image": prepared.image, "label": prepared.label}, metadata={"cycle": json.dumps(meta)})
    (root / entry["file"]).write_bytes(data)
    entry.update(bytes=len(data), sha256=hashlib.sha256(data).hexdigest())
    (root / "dataset.json").write_text(json.dumps(index))
    assert CycleDataset(root)[0]["observed"].all()


def test_an_interrupted_write_is_cleaned_and_said(tmp_path, caplog):
    from cineaug import CacheWriter, CycleDataset
    from cineaug.prepare import write_simulated_dataset

    sim = CycleDataset(write_simulated_dataset(tmp_path / "sim", n=6, seed=1, workers=1, progress=False))
    out = tmp_path / "bank"
    first = CacheWriter(out, source="test")
    for i in range(5):
        first.add(sim.cycle(i))  # killed before close(): no dataset.json
    again = CacheWriter(out, source="test")
    assert "5 cycle files of an interrupted run" in caplog.text
    again.add(sim.cycle(5))
    again.close()
    assert sorted(p.name for p in (out / "cycles").iterdir()) == [
        e["file"][7:] for e in CycleDataset(out).entries
    ]
    assert len(CycleDataset(out)) == 1 and "removed 5 stale cycle files" in caplog.text
