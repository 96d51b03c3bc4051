"""`Environment.eventSeries(...)`: its events in time buckets (db/series.py), with
its types and inputs. One statement per series field on the resolver path (the
same series under N environments at once, through a loader); inside the one
read statement on the compiled path (schema/planner.py, db/json_reads.py)."""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, Optional
from uuid import UUID

import strawberry
from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode, SelectionSetNode
from strawberry.scalars import JSON

from db.entities import EVENT
from db.filters import All, Filter
from db.lists import ListRequest
from db.series import SeriesRequest, fetch_series, series_request
from db.viewer import Viewer, require_read
from schema.connections import search_description
from schema.context import Context
from schema.fields import argument, generated_field, required_argument
from schema.inputs import FILTERS, given_value, to_filter
from schema.metadata import SeriesField

Info = strawberry.Info[Context, None]


@strawberry.enum(
    description="The length of a bucket: calendar days, weeks (from Monday) and months in "
    "the series' time zone."
)
class Interval(enum.Enum):
    """The length of a bucket (the schema's description above)."""

    MINUTE = strawberry.enum_value("MINUTE", description="A minute.")
    HOUR = strawberry.enum_value("HOUR", description="An hour.")
    DAY = strawberry.enum_value("DAY", description="A calendar day in the time zone.")
    WEEK = strawberry.enum_value("WEEK", description="A week from Monday in the time zone.")
    MONTH = strawberry.enum_value("MONTH", description="A calendar month in the time zone.")


@strawberry.enum(
    description="What a series measures: events, distinct ids, persons, or a figure of a "
    "numeric property (its JSON numbers; P50..P99 continuous percentiles)."
)
class EventMeasureKind(enum.Enum):
    """What a series measures (the schema's description above)."""

    COUNT = strawberry.enum_value("COUNT", description="How many events.")
    DISTINCT_IDS = strawberry.enum_value(
        "DISTINCT_IDS", description="How many distinct `distinctId`s."
    )
    PERSONS = strawberry.enum_value("PERSONS", description="How many distinct `personId`s.")
    SUM = strawberry.enum_value("SUM", description="The sum of the property's numbers.")
    AVG = strawberry.enum_value("AVG", description="The average of the property's numbers.")
    MIN = strawberry.enum_value("MIN", description="The property's least number.")
    MAX = strawberry.enum_value("MAX", description="The property's greatest number.")
    P50 = strawberry.enum_value("P50", description="The property's median.")
    P90 = strawberry.enum_value("P90", description="The property's 90th percentile.")
    P95 = strawberry.enum_value("P95", description="The property's 95th percentile.")
    P99 = strawberry.enum_value("P99", description="The property's 99th percentile.")


@strawberry.enum(
    description="What a series' lines are: one per event name, distinct id, or property value."
)
class EventBreakdownBy(enum.Enum):
    """What a series' lines are (the schema's description above)."""

    EVENT = strawberry.enum_value("EVENT", description="One line per event name.")
    DISTINCT_ID = strawberry.enum_value("DISTINCT_ID", description="One line per `distinctId`.")
    PROPERTY = strawberry.enum_value(
        "PROPERTY", description="One line per value of the property `key`."
    )


@strawberry.input(description="The measure of a series.")
class EventMeasure:
    kind: EventMeasureKind = strawberry.field(
        default=EventMeasureKind.COUNT, description="What is measured (default COUNT)."
    )
    property: str | None = strawberry.field(
        default=None, description="The numeric property: required for SUM..P99, refused else."
    )


@strawberry.input(description="How a series is broken down into lines.")
class EventBreakdown:
    by: EventBreakdownBy = strawberry.field(description="What the lines are.")
    key: str | None = strawberry.field(default=None, description="The property, for PROPERTY.")


@strawberry.type(description="One line of a series: its values align with the buckets.")
class EventSeriesLine:
    key: JSON | None = strawberry.field(description="The breakdown's value (null: none).")
    values: list[float | None] = strawberry.field(
        description="Per bucket: 0 in an empty one for the counts, null for the others."
    )
    total: float | None = strawberry.field(
        description="The measure over the whole window (not the sum of the buckets for "
        "distinct counts and percentiles)."
    )


@strawberry.type(description="An environment's events in time buckets.")
class EventSeries:
    buckets: list[datetime] = strawberry.field(description="Each bucket's start.")
    lines: list[EventSeriesLine] = strawberry.field(
        description="One line without a breakdown (key null), else the largest ones."
    )
    other: EventSeriesLine | None = strawberry.field(
        description="The lines past `limit` added up (COUNT and SUM; null otherwise, or "
        "when no line is left over)."
    )


def series_arguments(
    given: dict[str, Any], viewer: Viewer, narrowing: Filter | None = None
) -> SeriesRequest:
    """The field's arguments (python names) as a checked db request: the one conversion
    both executors use, raising the same errors before any SQL. `narrowing`: a
    condition of the field's own (an evaluation's conditions), ANDed with the filter."""
    require_read(viewer, EVENT.scope)
    args = {name: value for name, value in given.items() if given_value(value)}
    filters = [
        *([to_filter(EVENT, args["filter"])] if "filter" in args else []),
        *([narrowing] if narrowing is not None else []),
    ]
    events = ListRequest(
        EVENT,
        filter=None if not filters else filters[0] if len(filters) == 1 else All(tuple(filters)),
        search=args.get("search"),
    )
    measure = args.get("measure") or EventMeasure()
    breakdown = args.get("breakdown")
    return series_request(
        events,
        args["since"],
        args["until"],
        args["interval"].value,
        args.get("time_zone", "UTC"),
        measure=measure.kind.value,
        value=measure.property,
        breakdown=None if breakdown is None else breakdown.by.value,
        key=None if breakdown is None else breakdown.key,
        limit=args.get("limit", 25),
    )


def _asks_for_total(info: Info) -> bool:
    """Whether a line's `total` is selected anywhere under the field (fragments
    followed; a `total` under a condition counts): a one-line series without it
    reads no total."""
    raw = info._raw_info
    pending: list[SelectionSetNode | None] = [node.selection_set for node in raw.field_nodes]
    while pending:
        selection_set = pending.pop()
        for selection in selection_set.selections if selection_set is not None else ():
            if isinstance(selection, FieldNode) and selection.name.value == "total":
                return True
            if isinstance(selection, FragmentSpreadNode):
                fragment = raw.fragments.get(selection.name.value)
                pending.append(fragment.selection_set if fragment is not None else None)
            elif isinstance(selection, (FieldNode, InlineFragmentNode)):
                pending.append(selection.selection_set)
    return False


def _line(found: dict[str, Any] | None) -> EventSeriesLine | None:
    if found is None:
        return None
    return EventSeriesLine(key=found["key"], values=found["values"], total=found["total"])


def _series_field(
    description: str, narrowed: Callable[[Any], tuple[UUID, Filter]] | None = None
) -> Any:
    """An event series field: of the object's own events (an environment's), or,
    given `narrowed(root)`, of another environment's events narrowed by a filter of
    the object's (an evaluation's: resolver path only)."""

    async def resolve(root: Any, info: Info, **given: Any) -> EventSeries:
        context = info.context
        environment, narrowing = (root.uuid, None) if narrowed is None else narrowed(root)
        request = series_arguments(given, context.authenticated, narrowing)
        if not _asks_for_total(info):  # as the compiled path (schema/figure_plans.py)
            request = replace(request, totals=False)

        async def load(ids: Sequence[Any]) -> list[Any]:
            found = await fetch_series(context.session, request, context.authenticated, ids)
            return [found[i] for i in ids]

        series = await context.loaders.batch(("series", request), load).load(environment)
        return EventSeries(
            buckets=[datetime.fromisoformat(b) for b in series["buckets"]],
            lines=[line for line in map(_line, series["lines"]) if line is not None],
            other=_line(series["other"]),
        )

    return generated_field(
        EventSeries,
        plan=SeriesField() if narrowed is None else None,
        description=description,
        resolver=resolve,
        arguments=[
            required_argument("since", datetime, "The window's start (inclusive)."),
            required_argument("until", datetime, "The window's end (exclusive)."),
            required_argument("interval", Interval, "The length of a bucket."),
            argument(
                "time_zone",
                Optional[str],  # noqa: UP045
                "An IANA time zone (e.g. `Europe/Berlin`) for calendar buckets; default UTC.",
                default="UTC",
            ),
            argument(
                "filter",
                Optional[FILTERS[EVENT.name]],  # noqa: UP045
                "Which events count: every condition given must hold.",
            ),
            argument("search", Optional[str], search_description(EVENT)),  # noqa: UP045
            argument(
                "measure",
                Optional[EventMeasure],  # noqa: UP045
                "What each bucket measures (default: the events' COUNT).",
                default=EventMeasure(),
            ),
            argument(
                "breakdown",
                Optional[EventBreakdown],  # noqa: UP045
                "Lines per event name, distinct id or property value (none: one line).",
            ),
            argument(
                "limit",
                Optional[int],  # noqa: UP045
                "At most this many lines, 0 to 100 (default 25).",
                default=25,
            ),
        ],
    )


_WINDOW = (
    "in time buckets of `interval` in `timeZone` (IANA) over [since, until): at most 1,000 "
    "buckets; with a breakdown, the `limit` (0 to 100) lines of largest total (then key)."
)


def series_fields() -> dict[str, Any]:
    """The fields an Environment gets for its series."""
    return {"event_series": _series_field(f"Its events {_WINDOW}")}


def evaluation_series_field(narrowed: Callable[[Any], tuple[UUID, Filter]]) -> Any:
    """`Evaluation.series`: its environment's eventSeries, of the events its conditions
    match (`narrowed(root)`: the environment and the conditions as a filter)."""
    return _series_field(
        f"The environment's events that the conditions match (eventSeries narrowed by them) "
        f"{_WINDOW}",
        narrowed,
    )
