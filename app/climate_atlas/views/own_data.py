"""The "Your data" upload: a visitor's CSV becomes one more indicator and map metric.

Where the file goes is said before it is chosen: on the static site it is read in the browser and
sent nowhere; under `panel serve` it goes to the server, where it stays in this session's memory
(`AtlasState.atlas`) and is gone when the session ends. A file that cannot be used leaves the page
as it was and says why, naming the line; one that can says what was read and what was left out.
Both messages may quote the file, so they are shown only through `plain_text_pane`.
"""

from __future__ import annotations

import logging

import panel as pn
import param

from climate_atlas.state import AtlasState
from climate_atlas.user_data import MAX_BYTES, UserData, UserDataError, read_user_csv
from climate_atlas.views import metrics, ranking, table
from climate_atlas.views.plain_text import plain_text_pane

FORMAT = (f"A CSV file (at most {MAX_BYTES // 2**20} MB) with a header row and a column for the "
          "country (name, ISO3 or ISO2 code), the year and the value; optionally the series' name "
          "and unit. It shows as an indicator (chart, scatter, ranking, table) and as a map metric.")
WHERE = {
    "browser": "Your file is read in this browser and sent nowhere: this site has no server.",
    "server": "Your file is sent to this server, kept in your session's memory only (never "
              "written to disk) and gone when you close the page. Links do not carry it.",
}
UPLOAD_LABEL = "Add your data (CSV)"
LOGGER = logging.getLogger(__name__)


def upload_intro(target: str) -> str:
    """The Markdown above the file input: what to upload and where it goes (`target`: "browser" or
    "server"). The static site's map picture copies it (tools/build_site/poster.py) so that what
    follows the map lies where the page will draw it."""
    return f"**{UPLOAD_LABEL}.** {FORMAT} {WHERE[target]}"


class Upload(param.Parameterized):
    """What the upload says: the last file's outcome, as plain text."""

    error = param.String(default="")
    summary = param.String(default="")


def summary(user: UserData) -> str:
    """What was read, in plain text (the name, unit and file name are `safe_label`s)."""
    years = user.rows["year"]
    read = (f"Read your file: {user.name} ({user.unit or 'no unit given'}), "
            f"{len(user.rows)} values for {user.countries} countries, {years.min()}-{years.max()}. "
            "It is now the chosen indicator, and a map metric.")
    return " ".join([read, *user.notes])


def forget_own_data() -> None:
    """Drop every derived table a visitor's series may be in: the caches keyed on an atlas keep
    their last RECENT entries for every session, so a session's own atlas would outlive it. Called
    when a session that read a file ends; the other sessions only recompute what they ask for next."""
    for cached in (metrics.values_in, metrics._season_pool, metrics._metric_table,
                   table._country_table, table._by_name, ranking._ranking):
        cached.cache_clear()


def own_data_panel(state: AtlasState, countries: dict[str, str], target: str) -> pn.Column:
    """The file input, where the file goes (`target`: "browser" or "server"), and the outcome.
    `countries` is `search.country_lookup`'s table."""
    upload = Upload()
    box = pn.widgets.FileInput(accept=".csv,.txt,.tsv,text/csv,text/plain", label=UPLOAD_LABEL,
                               description=FORMAT, sizing_mode="stretch_width")

    def read(*_: object) -> None:
        # Only the bytes: in the browser, Panel 1.9.4 passes the file's name on late or not at all.
        if box.value is None:
            return
        try:
            user = read_user_csv(box.value, countries)
        except UserDataError as exc:
            upload.param.update(error=f"{exc} Nothing on the page changed.", summary="")
            return
        except Exception as exc:  # a case the reader does not foresee: said, and nothing lost
            LOGGER.exception("an uploaded file could not be read")
            upload.param.update(error=f"The file could not be read ({type(exc).__name__}). "
                                      "Nothing on the page changed.", summary="")
            return
        upload.param.update(error="", summary=summary(user))
        if state.atlas.user is None and pn.state.curdoc and pn.state.curdoc.session_context:
            pn.state.on_session_destroyed(lambda _context: forget_own_data())
        state.use_own_data(state.atlas.with_user_data(user))

    box.param.watch(read, "value")
    return pn.Column(
        pn.pane.Markdown(upload_intro(target)), box,
        plain_text_pane(upload.param.error, pn.pane.Alert, alert_type="danger",
                        visible=pn.bind(bool, upload.param.error)),
        plain_text_pane(upload.param.summary, pn.pane.Alert, alert_type="success",
                        visible=pn.bind(bool, upload.param.summary)),
        sizing_mode="stretch_width")

