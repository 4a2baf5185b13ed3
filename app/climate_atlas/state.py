"""The user's view of the atlas as one Parameterized object: every view is a function of it."""

from __future__ import annotations

import param

from climate_atlas.anomalies import Scope
from climate_atlas.data import ANNUAL, YOUR_DATA, Atlas
from climate_atlas.views.metrics import METRICS

DEFAULT_COUNTRY = "IND"  # a populous country with both a long series and every indicator
DEFAULT_INDICATOR = "EN.ATM.CO2E.PC"
MAX_SELECTED = 8  # the colour-blind-safe palette has eight colours
EMBEDS = ["", "map", "chart"]  # the whole atlas, or one view of it for an iframe


class AtlasState(param.Parameterized):
    """What the user has chosen; widgets, map clicks and the URL all write here."""

    selection = param.List(default=[DEFAULT_COUNTRY], item_type=str,
                           doc="ISO3 codes of the selected countries, most recent last")
    indicator = param.Selector(default=DEFAULT_INDICATOR, objects=[DEFAULT_INDICATOR])
    metric = param.Selector(default=next(iter(METRICS)), objects=list(METRICS))
    year = param.Integer(default=0, doc="bounds and value set by new_state from the data's years")
    season = param.Selector(default=ANNUAL, objects=[ANNUAL],
                            doc="the year, a season or a month (keys of Atlas.seasons)")
    base = param.Selector(default="", objects=[""], doc="the base period, 'first-last'; choices "
                          "and default (the publishers' base) set by new_state from the data")
    embed = param.Selector(default="", objects=EMBEDS, doc="'map' or 'chart': the page shows only "
                           "that view, for an iframe (the link's `embed=`); '' for the whole atlas")
    click_adds = param.Boolean(default=False, doc="a map click adds to the selection")
    atlas = param.ClassSelector(class_=Atlas, doc="the data every view shows: the process's atlas, "
                                "or after an upload this session's copy with the visitor's series "
                                "(Atlas.with_user_data)")
    notice = param.String(default="", doc="polite words about input that was dropped: plain "
                          "text that may quote a link or a file, shown only through plain_text_pane")

    def pick(self, iso3: str, add: bool | None = None) -> None:
        """Select a country: replace the selection, or add it (keeping at most MAX_SELECTED)."""
        if add if add is not None else self.click_adds:
            kept = [code for code in self.selection if code != iso3]
            self.selection = (kept + [iso3])[-MAX_SELECTED:]
        else:
            self.selection = [iso3]

    def choose_year(self, year: int) -> None:
        """The visitor chose `year` (the year slider, Play): the map shows it, so a map metric that
        does not change with the year (a mean, a trend) gives way to the chosen year's anomaly. A
        year that comes with the state (a link) is set as `year` alone."""
        self.param.update(year=year, **({} if METRICS[self.metric].by_year else {"metric": "year"}))

    def use_own_data(self, atlas: Atlas) -> None:
        """Show a visitor's series (`atlas`, made by Atlas.with_user_data): offered as an indicator
        and a map metric, and chosen as the indicator at once."""
        self.param.indicator.objects = list(atlas.indicator_meta.index)
        with param.parameterized.batch_call_watchers(self):
            self.atlas = atlas
            self.indicator = YOUR_DATA

    def drop(self, iso3: str) -> None:
        """Remove one country, never leaving the page empty."""
        kept = [code for code in self.selection if code != iso3]
        self.selection = kept or self.selection

    @property
    def scope(self) -> Scope:
        """The season and base every anomaly on the page is of."""
        return Scope(self.season, self.base)

    @property
    def country(self) -> str:
        """The most recently selected country, the one the single-country texts describe."""
        return self.selection[-1]


def new_state(atlas: Atlas) -> AtlasState:
    """A state whose choices are exactly the indicators, years, seasons and base periods the data
    holds (the last year, the year as a whole and the publishers' base first)."""
    state = AtlasState(atlas=atlas)
    state.param.indicator.objects = list(atlas.indicator_meta.index)
    state.param.season.objects = list(atlas.seasons)
    bases = [str(b.period) for b in atlas.periods.bases]
    state.param.base.objects = bases
    state.param.base.default = bases[0]
    state.base = bases[0]
    years = atlas.periods.years
    state.param.year.bounds = (years.first, years.last)
    state.year = years.last
    return state
