"""Frames out of cycles: only labelled frames, image and label together."""

from __future__ import annotations

import pytest
import torch

from cineaug.transforms import LabeledFramesd, RandFramed


def cycle() -> dict:
    t = torch.arange(20, dtype=torch.float32)
    return {
        "image": t[:, None, None].expand(20, 8, 8).clone(),
        "label": (t[:, None, None] % 4).expand(20, 8, 8).to(torch.uint8),
        "labeled": torch.tensor([i in (0, 7) for i in range(20)]),
    }


def test_rand_frame_takes_labelled_frames_only_and_keeps_pairs():
    tf = RandFramed(("image", "label")).set_random_state(0)
    seen = set()
    for _ in range(30):
        out = tf(cycle())
        t = out["frame"]
        assert out["image"].shape == (1, 8, 8) and float(out["image"][0, 0, 0]) == t
        assert int(out["label"][0, 0, 0]) == t % 4
        seen.add(t)
    assert seen == {0, 7}


def test_labeled_frames_lists_every_labelled_frame():
    frames = LabeledFramesd(("image", "label"))(cycle())
    assert [f["frame"] for f in frames] == [0, 7] and frames[1]["image"].shape == (1, 8, 8)


def test_a_cycle_without_labels_is_refused():
    c = cycle()
    c["labeled"][:] = False
    with pytest.raises(ValueError, match="no labelled, observed frame"):
        RandFramed(("image", "label"))(c)


def test_unobserved_frames_are_never_taken_even_when_flagged_labelled():
    c = cycle()
    c["labeled"][:] = True  # e.g. labels drawn for every frame, but images acquired at 0 and 7 only
    c["observed"] = torch.tensor([i in (0, 7) for i in range(20)])
    tf = RandFramed(("image", "label")).set_random_state(0)
    assert {tf(dict(c))["frame"] for _ in range(30)} == {0, 7}
    assert [f["frame"] for f in LabeledFramesd(("image", "label"))(c)] == [0, 7]
    c["observed"][:] = False
    with pytest.raises(ValueError, match="no labelled, observed frame"):
        LabeledFramesd(("image", "label"))(c)
