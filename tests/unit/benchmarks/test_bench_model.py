"""The benchmark's breakdown (benchmarks/bench_model.py): phase unions and the time only tests ran."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))

from bench_model import Sample, breakdown, minus, without_tests  # noqa: E402


def test_a_phase_that_ran_on_two_images_at_once_counts_its_seconds_once() -> None:
    images = [{"timeline": {"build": [0, 10]}}, {"timeline": {"build": [5, 12]}}]
    phases, _ = breakdown(images)
    assert phases == {"build": 12.0, "upload": 0.0, "smoke": 0.0, "contract": 0.0}


def test_tests_alone_leaves_out_the_seconds_in_which_another_image_built_or_uploaded() -> None:
    images = [
        {"timeline": {"build": [0, 10], "push": [10, 12], "smoke": [12, 20], "contract": [14, 25]}},
        {"timeline": {"build": [12, 18], "push": [18, 19], "smoke": [19, 22]}},
    ]
    phases, alone = breakdown(images)
    assert phases["smoke"] == 10.0 and phases["contract"] == 11.0
    assert alone == 6.0  # tests ran 12..25; something else ran until 19


def test_minus_of_disjoint_spans_is_the_whole_span() -> None:
    assert minus([(0.0, 3.0)], [(4.0, 5.0)]) == 3.0


def test_time_without_tests_leaves_out_only_the_seconds_in_which_nothing_but_tests_ran() -> None:
    sample = Sample("baseimages", 100.0, test_seconds=40.0, tests_alone=15.0)
    assert without_tests(sample) == 85.0  # not 60: 25 s of tests overlapped another image's build


def test_time_without_tests_of_a_run_that_did_not_record_it_is_unknown_not_the_flattering_guess() -> None:
    assert without_tests(Sample("baseimages", 100.0, test_seconds=40.0)) is None
