"""Find a country by what people call it: display name, ISO3 or ISO2 code or a reviewed alias."""

from __future__ import annotations

import unicodedata

from climate_atlas.data import Atlas


def normal(text: str) -> str:
    """How a country's or a header's words are compared: accents, case, spacing and the
    punctuation "_" ignored, a typographic apostrophe read as "'" ("Côte d’Ivoire" = "cote
    d'ivoire", "Country_Name" = "country name")."""
    stripped = "".join(c for c in unicodedata.normalize("NFKD", text)
                       if not unicodedata.combining(c))
    return " ".join(stripped.replace("_", " ").replace("’", "'").casefold().split())


def search_terms(atlas: Atlas) -> dict[str, str]:
    """Every phrase the search box offers, mapped to its country's ISO3 code.

    Each phrase ends in "(ISO3)", so typing a code finds it too; aliases name the country they
    stand for, so "Ivory Coast" visibly leads to Côte d'Ivoire.
    """
    terms: dict[str, str] = {}
    for iso3, row in atlas.countries.sort_values("name").iterrows():
        terms[f"{row['name']} ({iso3})"] = iso3
        aliases = row["aliases"] if isinstance(row["aliases"], str) else ""
        for alias in filter(None, aliases.split("|")):
            if alias != row["name"]:
                terms[f"{alias}: {row['name']} ({iso3})"] = iso3
    return terms


def country_lookup(atlas: Atlas) -> dict[str, str]:
    """What an uploaded file may call a country, in `normal` form, mapped to its ISO3
    code: the display name, the reviewed aliases (the search box's), the ISO3 and the ISO2 code."""
    lookup: dict[str, str] = {}
    for iso3, row in atlas.countries.iterrows():
        aliases = row["aliases"] if isinstance(row["aliases"], str) else ""
        iso2 = row["iso2"] if isinstance(row["iso2"], str) else ""
        for word in (iso3, iso2, row["name"], *aliases.split("|")):
            if word:
                lookup.setdefault(normal(word), iso3)
    return lookup
