"""Fixed splits and stratified, nested training subsets."""

from __future__ import annotations

from collections import Counter

import pytest

from cineaug.benchmark import stratified_order
from cineaug.splits import ACDC_DEV_TEST, ACDC_DEV_TRAIN, subject_list


def test_acdc_development_split_is_disjoint_complete_and_stratified() -> None:
    assert len(ACDC_DEV_TEST) == 20 and len(ACDC_DEV_TRAIN) == 80
    assert not set(ACDC_DEV_TEST) & set(ACDC_DEV_TRAIN)
    assert set(ACDC_DEV_TEST) | set(ACDC_DEV_TRAIN) == {f"patient{i:03d}" for i in range(1, 101)}
    groups = Counter((int(p[-3:]) - 1) // 20 for p in ACDC_DEV_TEST)  # ACDC groups patients in order
    assert groups == {g: 4 for g in range(5)}


def test_subject_list_takes_names_and_lists() -> None:
    assert subject_list("acdc-dev-train") == ACDC_DEV_TRAIN
    assert subject_list(" a, b ,") == ("a", "b")
    with pytest.raises(ValueError, match="no subjects"):
        subject_list(" , ")


def test_stratified_order_balances_every_prefix_and_depends_on_the_seed() -> None:
    pathology = {f"s{i:02d}": "ABCDE"[i % 5] for i in range(40)}
    order = stratified_order(pathology, seed=3)
    assert sorted(order) == sorted(pathology)
    for n in (1, 2, 5, 10, 20):
        counts = Counter(pathology[s] for s in order[:n])
        assert max(counts.values()) - min(counts.get(c, 0) for c in "ABCDE") <= 1
    assert stratified_order(pathology, seed=3) == order
    assert stratified_order(pathology, seed=4) != order
