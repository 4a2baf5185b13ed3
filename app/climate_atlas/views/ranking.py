"""Which indicators go with warming: every World Bank indicator ranked by how strongly it follows
the map's warming metric across countries.

The seed project asked which economic activity goes with a country's warming, one indicator at a
time. Here each indicator gets Spearman's rank correlation with the chosen metric (the map's
metric, year, season and base), its n, and a bootstrap 95% interval, so a strong-looking ρ from few
countries shows its uncertainty. The resampling has a fixed seed: the same data always give the same
interval. The scatter's latest-value rule (views/scatter.py) picks each country's indicator value.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from climate_atlas.anomalies import Scope
from climate_atlas.data import YOUR_DATA, Atlas
from climate_atlas.views.metrics import METRICS, RECENT, metric_table, metric_title
from climate_atlas.views.scatter import latest_values

RESAMPLES = 1000
SEED = 2026  # any fixed number: reruns (and the browser and the server) give the same interval
LEVEL = 0.95
CAVEAT = ("Correlation across countries is not cause: latitude, region and income shape both "
          "warming and development, so an indicator can rank high without any link to warming.")


def rank_correlation(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's ρ: Pearson's correlation of the average ranks (NaN when either is constant).
    pandas' own "spearman" needs scipy, which the browser build does not ship."""
    return float(pd.Series(x).rank().corr(pd.Series(y).rank()))


def _resampled_ranks(values: np.ndarray, picks: np.ndarray) -> np.ndarray:
    """Average ranks (ties share the mean of their places, as in Spearman's ρ) of `values[picks]`,
    row by row. A resample only repeats the sample's values, so each value's rank in a row is the
    count of smaller picks plus half the count of equal ones, read off per-row counts of each
    distinct value: no sort per resample."""
    distinct, code = np.unique(values, return_inverse=True)
    rows, k = picks.shape[0], len(distinct)
    coded = code[picks]
    counts = np.bincount((np.arange(rows)[:, None] * k + coded).ravel(),
                         minlength=rows * k).reshape(rows, k)
    below = counts.cumsum(axis=1) - counts
    average = below + (counts + 1) / 2
    return np.take_along_axis(average, coded, axis=1)


def bootstrap_interval(x: np.ndarray, y: np.ndarray, resamples: int = RESAMPLES,
                       seed: int = SEED) -> tuple[float, float]:
    """The percentile bootstrap interval (LEVEL) of Spearman's ρ: countries resampled with
    replacement `resamples` times; resamples whose ρ is undefined (all one value) are left out."""
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(x), size=(resamples, len(x)))
    rx, ry = _resampled_ranks(x, picks), _resampled_ranks(y, picks)
    rx -= rx.mean(axis=1, keepdims=True)
    ry -= ry.mean(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        rhos = (rx * ry).sum(axis=1) / np.sqrt((rx * rx).sum(axis=1) * (ry * ry).sum(axis=1))
    rhos = rhos[~np.isnan(rhos)]
    if len(rhos) == 0:
        return np.nan, np.nan
    tail = (1 - LEVEL) / 2 * 100
    low, high = np.percentile(rhos, [tail, 100 - tail])
    return float(low), float(high)


def ranking(atlas: Atlas, metric: str, year: int, scope: Scope) -> pd.DataFrame:
    """One row per indicator, strongest |ρ| first: indicator (name and unit), code, rho, n, low and
    high (the interval). Indicators with fewer than 3 countries beside the metric get NaN. When the
    metric is the visitor's own series, that series has no row."""
    return _ranking(atlas, metric, year, scope).copy()


@lru_cache(maxsize=RECENT)
def _ranking(atlas: Atlas, metric: str, year: int, scope: Scope) -> pd.DataFrame:
    warming = metric_table(atlas, metric, year, scope)["value"].dropna()
    rows = []
    for code, meta in atlas.indicator_meta.iterrows():
        if code == YOUR_DATA and METRICS[metric].own:
            continue  # the map shows the visitor's series itself: ρ would be 1
        pairs = latest_values(atlas, code)[["value"]].join(warming.rename("warming"), how="inner")
        x, y = pairs["value"].to_numpy(float), pairs["warming"].to_numpy(float)
        enough = len(pairs) >= 3
        rho = rank_correlation(x, y) if enough else np.nan
        low, high = bootstrap_interval(x, y) if enough else (np.nan, np.nan)
        own = "Your data: " if code == YOUR_DATA else ""
        rows.append({"indicator": f"{own}{meta['short_name']} ({meta['unit']})", "code": code,
                     "rho": rho, "n": len(pairs), "low": low, "high": high})
    table = pd.DataFrame(rows)
    order = table["rho"].abs().sort_values(ascending=False, na_position="last").index
    return table.loc[order].reset_index(drop=True)


def ranking_caption(atlas: Atlas, metric: str, year: int, scope: Scope) -> str:
    """What the ranking compares, and the caveat."""
    return (f"Spearman's rank correlation (ρ) of each indicator's latest value with "
            f"**{metric_title(atlas, metric, year, scope)}** across countries, its n, and a "
            f"{LEVEL:.0%} bootstrap interval ({RESAMPLES} resamples of the countries, fixed seed). "
            f"Strongest first; click a row for its scatter below. {CAVEAT}")
