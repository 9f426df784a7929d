"""A catalog system over time: the first year it serves, and its price in a given year.

A system shipping in a quarter after the first serves from the next year: a roadmap
counts whole years, and a rack installed in the fourth quarter serves only a sliver of it.
Prices follow `price_by_year` (each listed year's price holds until the next) and fall by
`price_decline_per_year` after the last listed year; when no year is listed, from the
catalog's `price_usd` in the year it ships (or the roadmap's first year, if it ships already).
"""

from __future__ import annotations

from twin.catalog import SystemEntry


def first_service_year(entry: SystemEntry) -> int | None:
    """The first whole year the system can serve; None when it ships already."""
    if entry.available is None:
        return None
    year, _, quarter = entry.available.partition("Q")
    return int(year) + (1 if quarter and int(quarter) > 1 else 0)


def price_in_year(entry: SystemEntry, year: int, start_year: int) -> float:
    """Price of one system bought in `year`, USD, on a roadmap that starts in `start_year`."""
    listed = sorted(y for y in entry.price_by_year if y <= year)
    if listed:
        base_year, base = listed[-1], entry.price_by_year[listed[-1]]
    elif entry.price_by_year:
        return entry.price_by_year[min(entry.price_by_year)]  # before the first listed year: its price
    else:
        base_year, base = first_service_year(entry) or start_year, entry.price_usd
    if entry.price_by_year and base_year != max(entry.price_by_year):
        return base  # a listed year's price holds until the next listed year
    return base * (1.0 - entry.price_decline_per_year) ** max(year - base_year, 0)
