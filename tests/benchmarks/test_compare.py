"""benchmarks/quality/compare.py: the two-level (questions + seeds) bootstrap interval."""

import importlib.util
import os

import numpy as np
import pytest
from scipy.stats import bootstrap

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPEC = importlib.util.spec_from_file_location(
    "quality_compare", os.path.join(REPO, "benchmarks", "quality", "compare.py")
)
assert SPEC is not None and SPEC.loader is not None
compare = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(compare)


def test_seed_level_alone_hand_worked() -> None:
    # A: one seed, F1 0 everywhere. B: two seeds, constant 10 and 20 on every question, so the
    # question draw cannot matter and B's mean over its two drawn seeds is 10, 15 or 20 with
    # probabilities 1/4, 1/2, 1/4: the 2.5 and 97.5 percentiles are 10 and 20.
    f1_a = np.zeros((1, 50))
    f1_b = np.stack([np.full(50, 10.0), np.full(50, 20.0)])
    low, high = compare.two_level_bootstrap(f1_a, f1_b, 4000, 0)
    assert (low, high) == (10.0, 20.0)


def test_one_seed_each_matches_scipy_paired_bootstrap() -> None:
    rng = np.random.default_rng(3)
    f1_a = rng.uniform(0, 100, size=(1, 300))
    f1_b = f1_a + rng.normal(5, 30, size=(1, 300))
    low, high = compare.two_level_bootstrap(f1_a, f1_b, 20000, 1)
    reference = bootstrap(
        (f1_a[0], f1_b[0]),
        lambda a, b, axis=-1: b.mean(axis=axis) - a.mean(axis=axis),
        paired=True,
        vectorized=True,
        n_resamples=20000,
        method="percentile",
        random_state=np.random.default_rng(2),
    ).confidence_interval
    assert low == pytest.approx(reference.low, abs=0.25)
    assert high == pytest.approx(reference.high, abs=0.25)


def test_seed_spread_widens_the_interval() -> None:
    rng = np.random.default_rng(4)
    base = rng.uniform(0, 100, size=300)
    f1_a = np.stack([base, base])
    quiet = np.stack([base + 5, base + 5])
    noisy = np.stack([base, base + 10])  # same mean difference, seeds 10 F1 apart
    quiet_low, quiet_high = compare.two_level_bootstrap(f1_a, quiet, 4000, 0)
    noisy_low, noisy_high = compare.two_level_bootstrap(f1_a, noisy, 4000, 0)
    assert quiet_high - quiet_low < 1e-9  # B - A is 5 on every question of every seed
    assert noisy_low <= 0.5 and noisy_high >= 9.5


def test_same_models_share_the_seed_draw() -> None:
    # B = A + 1 on every question of every seed, while the seeds differ by 20: drawn per system
    # the seed spread enters; drawn once for both (the same models), B - A is exactly 1.
    base = np.random.default_rng(5).uniform(0, 60, size=200)
    f1_a = np.stack([base, base + 20])
    f1_b = f1_a + 1
    assert compare.two_level_bootstrap(f1_a, f1_b, 4000, 0, same_models=True) == pytest.approx(
        (1.0, 1.0)
    )
    low, high = compare.two_level_bootstrap(f1_a, f1_b, 4000, 0)
    assert low < -5 and high > 7


def test_same_models_needs_the_same_number_of_seeds() -> None:
    f1 = np.zeros((2, 10))
    with pytest.raises(ValueError, match="2 vs 3"):
        compare.two_level_bootstrap(f1, np.zeros((3, 10)), 100, 0, same_models=True)


def test_rounded_reaches_nested_floats_only() -> None:
    # Two values 1e-14 apart (float summation noise) print the same once rounded.
    noisy = {"ci95": [4.570594115225987, 12.0795372701381], "n": 3, "label": "en"}
    moved = {"ci95": [4.570594115226001, 12.0795372701382], "n": 3, "label": "en"}
    assert noisy != moved
    assert compare.rounded(noisy) == compare.rounded(moved)
    assert compare.rounded(noisy) == {"ci95": [4.570594, 12.079537], "n": 3, "label": "en"}
    assert compare.rounded([[0.1234567]], digits=2) == [[0.12]]
