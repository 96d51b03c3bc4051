"""The planner's part for figures: `aggregate`, `groups` and `eventSeries` as plan
values (db/plans.py), their arguments checked as their resolvers check them
(schema/aggregates.py, schema/series.py), so that a refusal is the resolver
path's own."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, cast

from graphql import GraphQLField, GraphQLObjectType, get_named_type
from graphql.execution.collect_fields import FieldDetailsList

from db.aggregates import Measure, property_measure
from db.entities import Entity, Kind
from db.groups import checked_first, group_field, key_entity
from db.plans import (
    Constant,
    Figures,
    GroupKeyPlan,
    GroupsPlan,
    KeyObject,
    KeyValue,
    Selection,
    Series,
    SeriesLine,
)
from db.viewer import Viewer, require_read
from schema.metadata import (
    ColumnFigures,
    FigureColumn,
    GroupKeyField,
    GroupKeyObject,
    MeasureField,
    PropertyFigure,
    PropertyFigures,
    plan_of,
    strawberry_field,
)
from schema.series import series_arguments


class NotCompilable(Exception):
    """The operation selects something the compiled path does not answer."""


class FigurePlanner:
    """Mixed into the planner, whose collection of fields and arguments it uses."""

    viewer: Viewer

    def subfields(self, parent: GraphQLObjectType, nodes: FieldDetailsList) -> Any:
        raise NotImplementedError

    def arguments(self, definition: GraphQLField, nodes: FieldDetailsList) -> dict[str, Any]:
        raise NotImplementedError

    def object(self, type_name: str, nodes: FieldDetailsList) -> Selection:
        raise NotImplementedError

    def figures(
        self,
        entity: Entity,
        figures_type: GraphQLObjectType,
        nodes: FieldDetailsList,
        *,
        op: str | None = None,
        key: str | None = None,
    ) -> Figures:
        """`aggregate` (or one of its objects: `sum`... of `op`, `property` of `key`)."""
        items: list[tuple[str, Measure | Figures | Constant]] = []
        for response_key, sub in self.subfields(figures_type, nodes):
            name = sub[0].node.name.value
            if name == "__typename":
                items.append((response_key, Constant(figures_type.name)))
                continue
            definition = figures_type.fields[name]
            plan = plan_of(_metadata(definition))
            item: Measure | Figures
            if isinstance(plan, MeasureField):
                item = Measure(plan.op)
            elif isinstance(plan, ColumnFigures):
                inner = _object_type(figures_type, name)
                item = self.figures(entity, inner, sub, op=plan.op)
                item = Figures(item.items, none_when_empty=True)
            elif isinstance(plan, FigureColumn) and op is not None:
                item = Measure(op, column=plan.column)
            elif isinstance(plan, PropertyFigures):
                wanted = self.arguments(definition, sub)["key"]
                property_measure("count", wanted)  # checked as its resolver checks it
                item = self.figures(entity, _object_type(figures_type, name), sub, key=wanted)
            elif isinstance(plan, PropertyFigure) and key is not None:
                p = self.arguments(definition, sub).get("p")
                item = property_measure(plan.op, key, p)
            else:
                raise NotCompilable(f"{figures_type.name}.{name}")
            items.append((response_key, item))
        return Figures(tuple(items))

    def groups(
        self, entity: Entity, definition: GraphQLField, nodes: FieldDetailsList
    ) -> GroupsPlan:
        """`groups(by, first)`, its arguments checked as its resolver checks them."""
        args = self.arguments(definition, nodes)
        by = tuple(dict.fromkeys(group_field(entity, member.value) for member in args["by"]))
        first = checked_first(100 if args.get("first") is None else args["first"])
        group_type = cast(GraphQLObjectType, get_named_type(definition.type))
        items: list[tuple[str, GroupKeyPlan | Figures | Constant]] = []
        for key, sub in self.subfields(group_type, nodes):
            name = sub[0].node.name.value
            plan = plan_of(_metadata(group_type.fields[name])) if name != "__typename" else None
            if name == "__typename":
                items.append((key, Constant(group_type.name)))
            elif isinstance(plan, GroupKeyObject):
                items.append((key, self.group_key(entity, by, _object_type(group_type, name), sub)))
            else:
                items.append((key, self.figures(entity, _object_type(group_type, name), sub)))
        return GroupsPlan(by, first, tuple(items))

    def series(self, definition: GraphQLField, nodes: FieldDetailsList) -> Series:
        """`eventSeries(...)`, its arguments checked as its resolver checks them."""
        request = series_arguments(self.arguments(definition, nodes), self.viewer)
        series_type = cast(GraphQLObjectType, get_named_type(definition.type))
        items: list[tuple[str, str | SeriesLine | Constant]] = []
        for key, sub in self.subfields(series_type, nodes):
            name = sub[0].node.name.value
            if name == "__typename":
                items.append((key, Constant(series_type.name)))
            elif name == "buckets":
                items.append((key, name))
            else:
                line_type = _object_type(series_type, name)
                line: list[tuple[str, str | Constant]] = [
                    (line_key, Constant(line_type.name) if field == "__typename" else field)
                    for line_key, field in (
                        (k, s[0].node.name.value) for k, s in self.subfields(line_type, sub)
                    )
                ]
                items.append((key, SeriesLine(name == "lines", tuple(line))))
        totals = any(
            field == "total"
            for _, item in items
            if isinstance(item, SeriesLine)
            for _, field in item.items
        )
        return Series(replace(request, totals=totals), tuple(items))

    def group_key(
        self,
        entity: Entity,
        by: tuple[Any, ...],
        key_type: GraphQLObjectType,
        nodes: FieldDetailsList,
    ) -> GroupKeyPlan:
        items: list[tuple[str, KeyValue | KeyObject | Constant]] = []
        for key, sub in self.subfields(key_type, nodes):
            name = sub[0].node.name.value
            if name == "__typename":
                items.append((key, Constant(key_type.name)))
                continue
            plan = plan_of(_metadata(key_type.fields[name]))
            if not isinstance(plan, GroupKeyField):
                raise NotCompilable(f"{key_type.name}.{name}")
            field = plan.field
            index = by.index(field) if field in by else None
            parent = key_entity(entity, field)
            target = get_named_type(key_type.fields[name].type).name
            if parent is not None:
                if index is not None:  # read as the parent field reads it
                    require_read(self.viewer, parent.scope)
                items.append((key, KeyObject(index, parent, self.object(target, sub))))
            elif field.kind == "user":
                items.append((key, KeyObject(index, None, self.object(target, sub))))
            elif field.kind == "day":
                items.append((key, KeyValue(index, Kind.DATETIME)))
            else:
                items.append((key, KeyValue(index, entity.column(field.target).kind)))
        return GroupKeyPlan(tuple(items))


def _object_type(parent: GraphQLObjectType, name: str) -> GraphQLObjectType:
    return cast(GraphQLObjectType, get_named_type(parent.fields[name].type))


def _metadata(definition: GraphQLField) -> Any:
    field = strawberry_field(definition)
    return None if field is None else field.metadata
