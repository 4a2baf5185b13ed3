"""Find a country by what people call it: display name, ISO3 code or a reviewed alias."""

from __future__ import annotations

from climate_atlas.data import Atlas


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
