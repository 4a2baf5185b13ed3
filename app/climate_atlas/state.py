"""The user's view of the atlas as one Parameterized object: every view is a function of it."""

from __future__ import annotations

import param

from climate_atlas.data import Atlas

DEFAULT_COUNTRY = "IND"  # a populous country with both a long series and every indicator
DEFAULT_INDICATOR = "EN.ATM.CO2E.PC"

METRICS = {
    "Mean anomaly 2018-2022": "mean",
    "Trend 1993-2022 (°C per decade)": "trend",
}


class AtlasState(param.Parameterized):
    """What the user has chosen; URL sync and widgets both write here."""

    country = param.String(default=DEFAULT_COUNTRY, doc="ISO3 code of the selected country")
    indicator = param.Selector(default=DEFAULT_INDICATOR, objects=[DEFAULT_INDICATOR])
    metric = param.Selector(default="mean", objects=list(METRICS.values()))


def new_state(atlas: Atlas) -> AtlasState:
    """A state whose choices are exactly the indicators the data holds."""
    state = AtlasState()
    state.param.indicator.objects = list(atlas.indicator_meta.index)
    return state
