"""`aggregate` and `groups` of every connection: their types, generated from the
entity description (db/aggregates.py, db/groups.py say which measures and
group fields an entity has), and their resolvers.

Each `aggregate` (or `groups`) field costs one statement on the resolver path:
its resolver reads the whole selection below it first (`measures_of`), asks
`db/` for every figure at once (through a per-request loader when nested, so
the same field under N parents is still one statement), and the objects below
only read the values. Every field also carries its plan metadata, so that the
compiled path puts the same figures into its one statement.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Optional, cast
from uuid import UUID

import strawberry
from strawberry.scalars import JSON
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField

from db.aggregates import (
    COUNT,
    Measure,
    Values,
    bound_columns,
    fetch_aggregates,
    numeric_columns,
    property_column,
    property_measure,
)
from db.entities import Entity
from db.groups import GroupField, checked_first, fetch_groups, group_field
from db.lists import ListRequest
from schema.context import Context
from schema.fields import argument, generated_field, required_argument
from schema.groups import group_enum, group_type_of
from schema.inputs import KIND_TYPES
from schema.metadata import (
    AggregatesField,
    ColumnFigures,
    FigureColumn,
    GroupsField,
    MeasureField,
    PropertyFigure,
    PropertyFigures,
)
from schema.scalars import BigInt

Info = strawberry.Info[Context, None]
_FIGURE_OPS = {"sum": "sum", "avg": "avg", "min": "min", "max": "max"}


def _selected(selections: Iterable[Any]) -> Iterable[SelectedField]:
    """The fields of a selection, fragments followed (directives are not looked at:
    a figure fetched and not shown costs a little, one missing would fail)."""
    for selection in selections:
        if isinstance(selection, SelectedField):
            yield selection
        elif isinstance(selection, (InlineFragment, FragmentSpread)):
            yield from _selected(selection.selections)


def _literal(value: Any) -> Any:
    # a literal argument comes as its source text; a variable's value is coerced
    return float(value) if isinstance(value, str) else value


def measures_of(entity: Entity, selections: Iterable[Any]) -> list[Measure]:
    """The measures a selection on `<Entity>Aggregates` needs (checked arguments)."""
    by_public = {c.public: c.name for c in entity.columns}
    found: list[Measure] = [COUNT]
    for field in _selected(selections):
        if field.name == "distinctIds":
            found.append(Measure("distinct_ids"))
        elif field.name == "persons":
            found.append(Measure("persons"))
        elif field.name in _FIGURE_OPS:
            found.extend(
                Measure(field.name, column=by_public[sub.name])
                for sub in _selected(field.selections)
                if sub.name in by_public
            )
        elif field.name == "property":
            key = field.arguments.get("key")
            for sub in _selected(field.selections):
                if sub.name == "percentile":
                    found.append(property_measure("percentile", key, _literal(sub.arguments["p"])))
                elif sub.name != "__typename":
                    found.append(property_measure(sub.name, key))
    return list(dict.fromkeys(found))


@strawberry.type(
    description="Figures on one key of the events' properties: `count` counts the events "
    "holding it; sum, avg and percentile use its values that are JSON numbers; min and "
    "max compare numbers as numbers, else (no number) strings as strings."
)
class PropertyAggregates:
    values: strawberry.Private[Values]
    key: strawberry.Private[str]

    @strawberry.field(description="Events holding the key.", metadata=PropertyFigure("count").meta)
    def count(self) -> BigInt:
        return BigInt(self.values[property_measure("count", self.key)])

    @strawberry.field(
        description="The sum of its number values (null: none).",
        metadata=PropertyFigure("sum").meta,
    )
    def sum(self) -> float | None:
        return cast(float | None, self.values.get(property_measure("sum", self.key)))

    @strawberry.field(
        description="The average of its number values (null: none).",
        metadata=PropertyFigure("avg").meta,
    )
    def avg(self) -> float | None:
        return cast(float | None, self.values.get(property_measure("avg", self.key)))

    @strawberry.field(
        description="Its least value (a number if any is, else a string; null: none).",
        metadata=PropertyFigure("min").meta,
    )
    def min(self) -> JSON | None:
        return self.values.get(property_measure("min", self.key))

    @strawberry.field(
        description="Its greatest value (a number if any is, else a string; null: none).",
        metadata=PropertyFigure("max").meta,
    )
    def max(self) -> JSON | None:
        return self.values.get(property_measure("max", self.key))

    @strawberry.field(
        description="The continuous percentile (as percentile_cont), `p` in [0, 1].",
        metadata=PropertyFigure("percentile").meta,
    )
    def percentile(
        self,
        p: Annotated[
            float, strawberry.argument(description="Which percentile, 0 to 1 (0.5: the median).")
        ],
    ) -> float | None:
        return cast(float | None, self.values.get(property_measure("percentile", self.key, p)))


# the field of one column in `<Entity>Numbers`, `Averages` and `Bounds`
_FIGURE_FIELDS = {
    "sum": "The sum of {} (null when all are null).",
    "avg": "The average of {} (null when all are null).",
    "min": "The least (under `min`) or greatest (under `max`) {}, in its order.",
}
# the `sum` / `avg` / `min` / `max` fields of `<Entity>Aggregates`
_FIGURES_FIELDS = {
    "sum": "Sums of the whole-number columns (null over an empty list).",
    "avg": "Averages of the whole-number columns (null over an empty list).",
    "min": "Least values of the orderable columns (null over an empty list).",
    "max": "Greatest values of the orderable columns (null over an empty list).",
}


def _figures_type(entity: Entity, suffix: str, op: str, description: str) -> type | None:
    """`<Entity>Numbers` (sums), `Averages` or `Bounds` (min and max): one field per
    column the figure reads, filled from the values."""
    columns = bound_columns(entity) if op in ("min", "max") else numeric_columns(entity)
    if not columns:
        return None
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {"__module__": __name__}
    for column in columns:
        python_type: Any = (
            BigInt
            if op == "sum"
            else float
            if op == "avg"
            else column.enum or KIND_TYPES[column.kind]
        )
        annotations[column.name] = Optional[python_type]  # noqa: UP045 (a runtime value)
        namespace[column.name] = strawberry.field(
            description=_FIGURE_FIELDS[op].format(f"`{column.public}`"),
            metadata=FigureColumn(column.name).meta,
        )
    namespace["__annotations__"] = annotations
    name = f"{entity.type_name}{suffix}"
    return strawberry.type(type(name, (), namespace), name=name, description=description)


def _figures(entity: Entity, cls: type, op: str) -> Any:
    """The `sum` / `avg` / `min` / `max` field: null over an empty set."""

    async def resolve(root: Any, info: Info) -> Any:
        values: Values = root.values
        if not values[COUNT]:
            return None
        filled = {}
        for name in cls.__annotations__:
            value = values.get(Measure(op, column=name))
            enum_type = entity.column(name).enum
            filled[name] = enum_type(value) if enum_type and value is not None else value
        return cls(**filled)

    return generated_field(
        Optional[cls],  # noqa: UP045 (a runtime value)
        plan=ColumnFigures(op),
        description=_FIGURES_FIELDS[op],
        resolver=resolve,
    )


def _count(op: str, description: str) -> Any:
    async def resolve(root: Any, info: Info) -> BigInt:
        return BigInt(root.values[Measure(op)])

    return generated_field(BigInt, plan=MeasureField(op), description=description, resolver=resolve)


async def _property(root: Any, info: Info, key: str) -> PropertyAggregates:
    property_measure("count", key)  # checked, as the figures below were
    return PropertyAggregates(values=root.values, key=key)


def _aggregates_type(entity: Entity) -> type:
    fields: dict[str, Any] = {"count": _count("count", 'How many rows ("0" over none).')}
    for op, suffix, description in (
        ("sum", "Numbers", "Sums of whole-number columns (BigInt)."),
        ("avg", "Averages", "Averages of whole-number columns."),
        ("min", "Bounds", "Least or greatest values of the orderable columns."),
    ):
        cls = _figures_type(entity, suffix, op, description)
        if cls is not None:
            fields[op] = _figures(entity, cls, op)
            if op == "min":
                fields["max"] = _figures(entity, cls, "max")
    if property_column(entity) is not None:
        fields["distinct_ids"] = _count("distinct_ids", "How many distinct `distinctId`s.")
        fields["persons"] = _count("persons", "How many distinct persons (`personId`).")
        fields["property"] = generated_field(
            PropertyAggregates,
            plan=PropertyFigures(),
            description="Figures on one key of the properties.",
            resolver=_property,
            arguments=[required_argument("key", str, "A key of the properties (top level).")],
        )
    name = f"{entity.type_name}Aggregates"
    namespace = {"__module__": __name__, **fields}
    namespace["__annotations__"] = {"values": strawberry.Private[Values]}
    description = (
        "Figures over the whole filtered list (paging ignored); sum, avg, min and max "
        "are null over an empty list."
    )
    return strawberry.type(type(name, (), namespace), name=name, description=description)


@dataclass(frozen=True, slots=True)
class ListSource:
    """What a connection's aggregate fields need of its list: set by the list resolver
    (`parent`: the row the list hangs from, through `parent_column`; None at the root)."""

    request: ListRequest
    parent: UUID | None
    parent_column: str | None


def connection_fields(entity: Entity) -> dict[str, Any]:
    """`aggregate` and `groups` of `entity`'s connections."""
    aggregates = _aggregates_type(entity)
    group_type = group_type_of(entity, aggregates)
    by_type = group_enum(entity)

    async def aggregate(root: Any, info: Info) -> Any:
        context = info.context
        measures = measures_of(entity, _subselections(info))
        source = root.source
        if source.parent_column is None:
            found = await fetch_aggregates(
                context.session, source.request, context.authenticated, measures
            )
            values = found[None]
        else:
            loader = context.loaders.batch(
                ("aggregate", source.request, source.parent_column, tuple(measures)),
                lambda ids: _batched_aggregates(context, source, measures, ids),
            )
            values = await loader.load(source.parent)
        return aggregates(values=values)

    async def groups(root: Any, info: Info, by: list[Any], first: int | None = 100) -> list[Any]:
        context = info.context
        fields = list(dict.fromkeys(group_field(entity, member.value) for member in by))
        first = checked_first(100 if first is None else first)
        measures = measures_of(
            entity,
            (
                sub
                for selected in _selected(_subselections(info))
                if selected.name == "aggregate"
                for sub in selected.selections
            ),
        )
        source = root.source
        key = (
            "groups",
            source.request,
            source.parent_column,
            tuple(fields),
            first,
            tuple(measures),
        )
        loader = context.loaders.batch(
            key, lambda ids: _batched_groups(context, source, (fields, first, measures), ids)
        )
        found = await loader.load(source.parent)
        return [
            group_type(
                keys={f.name: k for f, k in zip(fields, g.keys, strict=True)},
                values=g.values,
            )
            for g in found
        ]

    return {
        "aggregate": generated_field(
            aggregates,
            plan=AggregatesField(entity),
            description="Figures over the whole filtered list (paging ignored, as for totalCount).",
            resolver=aggregate,
        ),
        "groups": generated_field(
            list[group_type],  # type: ignore[valid-type]
            plan=GroupsField(entity),
            description="The filtered list's rows grouped by `by`, largest first (then by "
            "key), at most `first` (0 to 100) groups.",
            resolver=groups,
            arguments=[
                required_argument(
                    "by",
                    list[by_type],  # type: ignore[valid-type]
                    "What the groups are made by: one key field per value.",
                ),
                argument(
                    "first",
                    Optional[int],  # noqa: UP045
                    "At most this many groups, 0 to 100 (else BAD_USER_INPUT); default 100.",
                    default=100,
                ),
            ],
        ),
    }


def _subselections(info: Info) -> list[Any]:
    # the same field may be selected by several merged nodes (fragments)
    return [sub for field in info.selected_fields for sub in field.selections]


async def _batched_aggregates(
    context: Context, source: Any, measures: Sequence[Measure], ids: Sequence[Any]
) -> list[Values]:
    if source.parent_column is None:
        found = await fetch_aggregates(
            context.session, source.request, context.authenticated, measures
        )
    else:
        found = await fetch_aggregates(
            context.session,
            source.request,
            context.authenticated,
            measures,
            parent_column=source.parent_column,
            parent_ids=list(ids),
        )
    return [found[i] for i in ids]


async def _batched_groups(
    context: Context,
    source: Any,
    asked: tuple[Sequence[GroupField], int, Sequence[Measure]],
    ids: Sequence[Any],
) -> list[Any]:
    fields, first, measures = asked
    found = await fetch_groups(
        context.session,
        source.request,
        context.authenticated,
        by=fields,
        first=first,
        measures=measures,
        parent_column=source.parent_column,
        parent_ids=[i for i in ids if i is not None],
    )
    return [found.get(i, []) for i in ids]
