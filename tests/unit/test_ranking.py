"""The indicator ranking: Spearman's ρ and its bootstrap interval agree with scipy's."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from climate_atlas.anomalies import Scope, default_scope
from climate_atlas.data import load_atlas
from climate_atlas.views.metrics import metric_table
from climate_atlas.views.ranking import (
    _resampled_ranks,
    bootstrap_interval,
    rank_correlation,
    ranking,
)
from climate_atlas.views.scatter import latest_values

# A small known sample with ties in both variables.
X = np.array([3.1, 0.4, 2.2, 2.2, 5.0, 1.7, 0.9, 4.4, 3.1, 2.8, 6.3, 0.1, 3.9, 2.2, 5.5])
Y = np.array([0.31, 0.12, 0.25, 0.40, 0.55, 0.12, 0.05, 0.38, 0.33, 0.21, 0.61, 0.02, 0.29,
              0.27, 0.47])


@pytest.fixture(scope="module")
def atlas():
    return load_atlas()


def test_rho_is_scipys_spearman() -> None:
    assert rank_correlation(X, Y) == pytest.approx(stats.spearmanr(X, Y).statistic, abs=1e-12)


def test_resampled_ranks_are_average_ranks() -> None:
    picks = np.random.default_rng(1).integers(0, len(X), size=(50, len(X)))
    expected = np.array([stats.rankdata(X[row]) for row in picks])
    assert np.array_equal(_resampled_ranks(X, picks), expected)


def test_interval_agrees_with_scipys_percentile_bootstrap() -> None:
    low, high = bootstrap_interval(X, Y, resamples=20_000)
    reference = stats.bootstrap(
        (X, Y), lambda x, y: stats.spearmanr(x, y).statistic, paired=True, vectorized=False,
        n_resamples=5_000, method="percentile", confidence_level=0.95,
        random_state=np.random.default_rng(7)).confidence_interval
    assert low == pytest.approx(reference.low, abs=0.04)
    assert high == pytest.approx(reference.high, abs=0.04)
    assert low < rank_correlation(X, Y) < high


def test_a_fixed_seed_gives_the_same_interval() -> None:
    assert bootstrap_interval(X, Y) == bootstrap_interval(X, Y)
    assert bootstrap_interval(X, Y) != bootstrap_interval(X, Y, seed=1)


def test_every_indicator_is_ranked_strongest_first(atlas) -> None:
    table = ranking(atlas, "trend", 2022, default_scope(atlas))
    assert sorted(table["code"]) == sorted(atlas.indicator_meta.index)
    strengths = table["rho"].abs().to_numpy()
    assert np.all(strengths[:-1] >= strengths[1:])
    assert (table["low"] <= table["rho"]).all() and (table["rho"] <= table["high"]).all()
    row = table.set_index("code").loc["EN.ATM.CO2E.PC"]
    warming = metric_table(atlas, "trend")["value"].dropna()
    pairs = latest_values(atlas, "EN.ATM.CO2E.PC").join(warming.rename("w"), how="inner")
    assert row["n"] == len(pairs)
    assert row["rho"] == pytest.approx(stats.spearmanr(pairs["value"], pairs["w"]).statistic)


def test_the_ranking_follows_the_metric_and_season(atlas) -> None:
    annual = ranking(atlas, "trend", 2022, default_scope(atlas)).set_index("code")["rho"]
    summer = ranking(atlas, "trend", 2022, Scope("jja", "1951-1980")).set_index("code")["rho"]
    assert not np.allclose(annual, summer.reindex(annual.index))
