"""One description per entity: its table, its columns and what may be done with
them, its parents. Filters, search, ordering and visibility are all derived
from these; column names in SQL come only from here, never from input."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


def camel(name: str) -> str:
    """`row_count` as clients write it: `rowCount`."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


class Kind(Enum):
    """What a column holds, which decides the operators it takes."""

    ID = "id"
    STRING = "string"
    INT = "int"
    DATETIME = "datetime"
    BOOLEAN = "boolean"
    ENUM = "enum"


@dataclass(frozen=True, slots=True)
class Column:
    """A column exposed to lists."""

    name: str
    kind: Kind
    searchable: bool = False
    orderable: bool = True
    # whether the column may hold NULL (a cursor's seek must then be NULL-aware)
    nullable: bool = False

    @property
    def public(self) -> str:
        """The name clients use, for messages."""
        return camel(self.name)


@dataclass(frozen=True, slots=True)
class Relation:
    """A parent reached through a foreign key of this table."""

    name: str
    column: str
    target: str


@dataclass(frozen=True, slots=True)
class Entity:
    """A table of the graph."""

    name: str
    table: str
    columns: tuple[Column, ...]
    relations: tuple[Relation, ...]
    # the column holding the project whose visibility the row follows
    # (None: the entity's visibility is decided otherwise, see db/visibility.py)
    project_column: str | None
    # rows hidden from every read (soft delete)
    hidden_when: str | None = None

    def column(self, name: str) -> Column:
        """The column called `name` (KeyError: not exposed)."""
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    def relation(self, name: str) -> Relation:
        """The parent relation called `name`."""
        for relation in self.relations:
            if relation.name == name:
                return relation
        raise KeyError(name)

    @property
    def searchable(self) -> tuple[Column, ...]:
        """The text columns free-text search looks in."""
        return tuple(c for c in self.columns if c.searchable)


def _common(*columns: Column) -> tuple[Column, ...]:
    return (
        Column("id", Kind.ID, orderable=False),
        *columns,
        Column("created_at", Kind.DATETIME),
        Column("updated_at", Kind.DATETIME),
    )


_NAME = Column("name", Kind.STRING, searchable=True)

ORGANIZATION = Entity("organization", "organizations", _common(_NAME), (), project_column=None)
PROJECT = Entity(
    "project",
    "projects",
    _common(_NAME, Column("asset_type", Kind.ENUM)),
    (Relation("organization", "organization_id", "organization"),),
    project_column="id",
)
MODEL = Entity(
    "model",
    "models",
    _common(_NAME, Column("version", Kind.STRING, searchable=True)),
    (Relation("project", "project_id", "project"),),
    project_column="project_id",
)
ENVIRONMENT = Entity(
    "environment",
    "environments",
    _common(
        _NAME,
        Column("type", Kind.ENUM),
        Column("row_count", Kind.INT),
        Column("sort_order", Kind.INT),
        Column("protected", Kind.BOOLEAN),
    ),
    (Relation("model", "model_id", "model"), Relation("project", "project_id", "project")),
    project_column="project_id",
)
SEGMENT = Entity(
    "segment",
    "segments",
    _common(
        _NAME,
        Column("description", Kind.STRING, searchable=True),
        Column("definition", Kind.STRING, searchable=True),
    ),
    (Relation("model", "model_id", "model"), Relation("project", "project_id", "project")),
    project_column="project_id",
    hidden_when="deleted_at IS NOT NULL",
)

ENTITIES = {e.name: e for e in (ORGANIZATION, PROJECT, MODEL, ENVIRONMENT, SEGMENT)}
