"""The registry: each entity described once, as data.

Everything about a kind of entity that more than one place needs is here: its
table and GraphQL name, its columns (kind, enum, nullability, search, order),
its parents and child lists, the users it names, the column its visibility
follows, its scope and its soft-delete rule. From these descriptions come the
GraphQL types, filter and order inputs, root and nested lists, lookups, Node
and federation resolution and scopes (schema/), the SQL of both executors and
visibility (db/), and the generators of the property tests (tests/). Column
and table names in SQL come only from here, never from input.

A new kind of entity is its migration, its description below (added to
`ENTITIES`), its write module and its tests; a new column is one `Column`.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from enum import Enum


def camel(name: str) -> str:
    """`row_count` as clients write it: `rowCount`."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def pascal(name: str) -> str:
    """`alert_rule` as a GraphQL type name: `AlertRule`."""
    return "".join(part.title() for part in name.split("_"))


def snake(name: str) -> str:
    """`EnvironmentType` (or `createdAt`) as PostgreSQL names it: `environment_type`."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class Kind(Enum):
    """What a column holds, which decides the operators it takes."""

    ID = "id"
    STRING = "string"
    INT = "int"
    DATETIME = "datetime"
    BOOLEAN = "boolean"
    ENUM = "enum"
    # a 64-bit count, the BigInt scalar (a JSON string of digits)
    BIGINT = "bigint"
    # a plain uuid that is not a global id (an event's personId)
    UUID = "uuid"
    # a JSON document (an event's properties): filtered by its own operators
    # (PropertyFilter), never ordered
    JSON = "json"


# PostgreSQL's type of a column of each kind (an enum column: its enum type),
# for the test that compares the descriptions with the migrated database
SQL_TYPES = {
    Kind.ID: "uuid",
    Kind.STRING: "text",
    Kind.INT: "integer",
    Kind.DATETIME: "timestamp with time zone",
    Kind.BOOLEAN: "boolean",
    Kind.BIGINT: "bigint",
    Kind.UUID: "uuid",
    Kind.JSON: "jsonb",
}


class EnvironmentType(enum.Enum):
    """The stage of a model's data an environment holds."""

    PRE_PRODUCTION = "PRE_PRODUCTION"
    PRODUCTION = "PRODUCTION"


class EnvironmentKind(enum.Enum):
    """The deployment stage of an environment (as configuration tools name it)."""

    DEVELOPMENT = "DEVELOPMENT"
    STAGING = "STAGING"
    PRODUCTION = "PRODUCTION"
    CUSTOM = "CUSTOM"


class AssetType(enum.Enum):
    """What a project monitors."""

    ML_MODEL = "ML_MODEL"
    GEN_AI_APP = "GEN_AI_APP"


class ExportFormat(enum.Enum):
    """The file an export writes."""

    CSV = "CSV"
    JSON = "JSON"
    NDJSON = "NDJSON"


class ExportStatus(enum.Enum):
    """Where an export job stands."""

    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"


# what each value of the enums above means, shown beside it in the schema (every
# value of an enum a column names belongs here: tests/schema/test_schema_lint.py)
VALUE_DESCRIPTIONS: dict[Enum, str] = {
    EnvironmentType.PRE_PRODUCTION: "Data from before deployment: training, validation, tests.",
    EnvironmentType.PRODUCTION: "Data from the deployed model.",
    EnvironmentKind.DEVELOPMENT: "A developer's environment.",
    EnvironmentKind.STAGING: "A rehearsal of production.",
    EnvironmentKind.PRODUCTION: "Where the model serves its users.",
    EnvironmentKind.CUSTOM: "Any other stage.",
    AssetType.ML_MODEL: "A machine-learning model.",
    AssetType.GEN_AI_APP: "An application built on a generative AI model.",
    ExportFormat.CSV: "Comma-separated values with a header row.",
    ExportFormat.JSON: "One JSON array of objects.",
    ExportFormat.NDJSON: "One JSON object per line.",
    ExportStatus.QUEUED: "Waiting for a worker.",
    ExportStatus.RUNNING: "Being written.",
    ExportStatus.SUCCEEDED: "Written: `contentUrl` downloads it until `expiresAt`.",
    ExportStatus.FAILED: "Stopped by an error (see `error`).",
    ExportStatus.CANCELLED: "Stopped by cancelExport.",
    ExportStatus.EXPIRED: "Its file was deleted at `expiresAt`.",
}


@dataclass(frozen=True, slots=True)
class Column:
    """A column exposed to clients: a field of the type, filterable, maybe orderable."""

    name: str
    kind: Kind
    searchable: bool = False
    orderable: bool = True
    # whether the column may hold NULL (a cursor's seek must then be NULL-aware)
    nullable: bool = False
    # the values of an ENUM column (a Python enum whose values are the database's)
    enum: type[Enum] | None = None
    description: str | None = None
    # PostgreSQL's type when it is not the kind's usual one (e.g. bigint)
    sql_type: str | None = None
    # shown only to viewers who share an organization with the row's user (a
    # user's e-mail): elsewhere it reads as NULL, in filters too
    masked: bool = False
    # a text whose values never need escaping in JSON (its CHECK constraint keeps
    # them to letters, digits, '_' and '-'): a cursor quotes it as it is
    plain: bool = False

    def __post_init__(self) -> None:
        # an enum column's labels come from its description: the GraphQL enum, the
        # check of a cursor's value and the registry test all read them there
        if (self.kind is Kind.ENUM) != (self.enum is not None):
            raise ValueError(f"column {self.name}: an ENUM column, and only one, names its enum")

    @property
    def public(self) -> str:
        """The name clients use: the GraphQL field, in messages too."""
        return camel(self.name)

    @property
    def database_type(self) -> str:
        """The type information_schema reports for the column."""
        if self.sql_type is not None:
            return self.sql_type
        if self.enum is not None:
            return snake(self.enum.__name__)
        return SQL_TYPES[self.kind]


@dataclass(frozen=True, slots=True)
class Relation:
    """A parent reached through a foreign key of this table (a field and a filter)."""

    name: str
    column: str
    target: str


@dataclass(frozen=True, slots=True)
class Through:
    """A parent reached through another parent (`organization` through `project`):
    a field and a filter, as a direct relation is."""

    name: str
    path: tuple[str, ...]  # relation names, hop by hop, starting on this entity


@dataclass(frozen=True, slots=True)
class Children:
    """A nested list: the rows of `entity` whose `column` holds this row's id."""

    name: str
    entity: str
    column: str
    description: str


@dataclass(frozen=True, slots=True)
class UserRef:
    """A user named by a column (createdBy, updatedBy)."""

    name: str
    column: str
    description: str


@dataclass(frozen=True, slots=True)
class RootList:
    """The root list of an entity; `equal_arguments` are shorthand arguments that
    filter a column by equality (`environments(type: PRODUCTION)`)."""

    name: str
    description: str
    equal_arguments: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Entity:
    """A table of the graph, as described once."""

    name: str
    table: str
    description: str
    columns: tuple[Column, ...]
    relations: tuple[Relation, ...] = ()
    through: tuple[Through, ...] = ()
    children: tuple[Children, ...] = ()
    user_refs: tuple[UserRef, ...] = ()
    root_list: RootList | None = None
    # the column holding the project whose visibility the row follows
    # (None: the entity's visibility is decided otherwise, see db/visibility.py)
    project_column: str | None = None
    # soft delete: a row whose column of this name is set is hidden from every read
    # but its lists' `deleted: INCLUDE | ONLY` (the column is a field of its own)
    deleted_column: str | None = None
    # the GraphQL type name (default: the name in PascalCase)
    graphql_name: str | None = None
    # a stream read by time window: its lists take `since` (inclusive) and `until`
    # (exclusive) on this column
    time_column: str | None = None
    # the order of a list whose orderBy is empty, before the id: (column, descending)
    default_order: tuple[tuple[str, bool], ...] = ()
    # the column naming the user a row belongs to: only that user sees the row,
    # whatever their roles (API tokens); it takes the place of `project_column`
    owner_column: str | None = None
    # what its scopes are named after, when not its name (`token:read`)
    scope_name: str | None = None
    _columns: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.deleted_column is not None and all(
            c.name != self.deleted_column for c in self.columns
        ):
            # the soft-delete column is a field of its own (`deletedAt`), by
            # description alone: set on the rows `deleted: INCLUDE | ONLY` lists
            deleted = Column(
                self.deleted_column,
                Kind.DATETIME,
                nullable=True,
                description="When it was deleted (null: it is not); deleted ones are "
                "listed with `deleted: INCLUDE` or `ONLY`.",
            )
            object.__setattr__(self, "columns", (*self.columns, deleted))
        object.__setattr__(self, "_columns", {c.name: c for c in self.columns})
        for name, _ in self.default_order:
            if not self._columns[name].orderable:
                raise ValueError(f"{self.name}: the default order's {name} is not orderable")

    @property
    def type_name(self) -> str:
        """The GraphQL object type, and the prefix of its inputs (`AlertRuleFilter`)."""
        return self.graphql_name or pascal(self.name)

    @property
    def scope(self) -> str:
        """What its scopes are named after: `<scope>:read`, `<scope>:write`."""
        return self.scope_name or self.name

    @property
    def lookup(self) -> str:
        """The root field that finds one by id."""
        return camel(self.name)

    def column(self, name: str) -> Column:
        """The column called `name` (KeyError: not exposed)."""
        return self._columns[name]

    def column_kind(self, name: str) -> Kind | None:
        """The kind of the column called `name` (None: not exposed)."""
        column = self._columns.get(name)
        return None if column is None else column.kind

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

    @property
    def orderable(self) -> tuple[Column, ...]:
        """The columns a list can be ordered by."""
        return tuple(c for c in self.columns if c.orderable)

    def path(self, parent: str) -> tuple[tuple[Entity, str], ...]:
        """The hops (parent entity, column of the row before it) that reach the parent
        field `parent`, a direct relation or one reached through others."""
        names = next((t.path for t in self.through if t.name == parent), (parent,))
        hops, entity = [], self
        for name in names:
            relation = entity.relation(name)
            entity = ENTITIES[relation.target]
            hops.append((entity, relation.column))
        return tuple(hops)

    @property
    def parents(self) -> Iterator[str]:
        """Every parent field: the relations, then those reached through them."""
        yield from (r.name for r in self.relations)
        yield from (t.name for t in self.through)

    def parent(self, name: str) -> Entity:
        """The entity of the parent field `name` (KeyError: no such parent)."""
        return self.path(name)[-1][0]

    @property
    def name_ordered_parents(self) -> tuple[str, ...]:
        """The parents whose name can order lists of this entity (`PROJECT_NAME`)."""
        mine = {self.parent(p).name: p for p in self.parents}
        return tuple(mine[name] for name in NAME_ORDERED_PARENTS if name in mine)

    def user_ref(self, name: str) -> UserRef:
        """The user reference called `name` (KeyError: none)."""
        for ref in self.user_refs:
            if ref.name == name:
                return ref
        raise KeyError(name)


_ID = Column(
    "id",
    Kind.ID,
    orderable=False,
    description="Its uuid, as the REST APIs and the command line name it (`id` is the global id).",
)
_CREATED_AT = Column("created_at", Kind.DATETIME, description="When it was created.")
_UPDATED_AT = Column("updated_at", Kind.DATETIME, description="When it was last changed.")


def _common(*columns: Column) -> tuple[Column, ...]:
    return (_ID, *columns, _CREATED_AT, _UPDATED_AT)


_NAME = Column("name", Kind.STRING, searchable=True, description="Its display name.")
# the parents whose name orders the lists below them: `<PARENT>_NAME` order fields
# (API.md: MODEL_NAME, PROJECT_NAME, ORGANIZATION_NAME where those parents exist)
NAME_ORDERED_PARENTS = ("model", "project", "organization")
_UNDER_MODEL = (
    Relation("model", "model_id", "model"),
    Relation("project", "project_id", "project"),
)
_ORGANIZATION_OF_PROJECT = (Through("organization", ("project", "organization")),)
# what belongs to an environment (events, exports) carries its project's id too
_UNDER_ENVIRONMENT = (
    Relation("environment", "environment_id", "environment"),
    Relation("project", "project_id", "project"),
)
_ABOVE_ENVIRONMENT = (
    Through("model", ("environment", "model")),
    Through("organization", ("project", "organization")),
)

ORGANIZATION = Entity(
    "organization",
    "organizations",
    "A tenant: it owns projects.",
    _common(_NAME),
    children=(Children("projects", "project", "organization_id", "The organization's projects."),),
    root_list=RootList("organizations", "The organizations the caller belongs to."),
)
PROJECT = Entity(
    "project",
    "projects",
    "A project of an organization: it holds models.",
    _common(
        _NAME,
        Column("asset_type", Kind.ENUM, enum=AssetType, description="What the project monitors."),
    ),
    relations=(Relation("organization", "organization_id", "organization"),),
    children=(
        Children("models", "model", "project_id", "The project's models."),
        Children(
            "environments",
            "environment",
            "project_id",
            "The environments of all the project's models, in their display order "
            "(sortOrder, then name) unless orderBy says otherwise.",
        ),
        Children("segments", "segment", "project_id", "The segments of all the project's models."),
    ),
    root_list=RootList("projects", "The projects the caller sees."),
    project_column="id",
)
MODEL = Entity(
    "model",
    "models",
    "A model (name and version) monitored in a project.",
    _common(
        _NAME,
        Column("version", Kind.STRING, searchable=True, description="The model's version label."),
    ),
    relations=(Relation("project", "project_id", "project"),),
    through=_ORGANIZATION_OF_PROJECT,
    children=(
        Children(
            "environments",
            "environment",
            "model_id",
            "The model's environments, in their display order (sortOrder, then name) unless "
            "orderBy says otherwise.",
        ),
        Children("segments", "segment", "model_id", "The model's segments."),
    ),
    root_list=RootList("models", "The models the caller sees."),
    project_column="project_id",
)
ENVIRONMENT = Entity(
    "environment",
    "environments",
    "A stage of a model's data.",
    _common(
        # the environment name rule (db/names.py): what orders every model's
        # environments, so plain in their cursors
        replace(_NAME, plain=True),
        Column("type", Kind.ENUM, enum=EnvironmentType, description="Its data's role."),
        Column("kind", Kind.ENUM, enum=EnvironmentKind, description="Its deployment stage."),
        Column(
            "enabled",
            Kind.BOOLEAN,
            description="A disabled environment keeps its data and reads but refuses new events.",
        ),
        Column("row_count", Kind.BIGINT, description="Rows published into the environment."),
        Column(
            "sort_order",
            Kind.INT,
            description="Its 0-based position among its model's environments (moveEnvironment).",
        ),
        Column("protected", Kind.BOOLEAN, description="A protected environment cannot be deleted."),
        Column(
            "event_count",
            Kind.BIGINT,
            description="Events stored in the environment (exact: kept by ingestion and "
            "retention).",
        ),
    ),
    relations=_UNDER_MODEL,
    through=_ORGANIZATION_OF_PROJECT,
    children=(
        Children(
            "events",
            "event",
            "environment_id",
            "The environment's events, newest first unless orderBy says otherwise.",
        ),
        Children("exports", "export", "environment_id", "The environment's exports, newest first."),
        Children("secrets", "secret", "environment_id", "The environment's secrets."),
        Children(
            "evaluations",
            "evaluation",
            "environment_id",
            "The environment's evaluations (live ones unless `deleted` says otherwise).",
        ),
    ),
    root_list=RootList(
        "environments",
        "The environments the caller sees (optionally of one type), by sortOrder, then name, "
        "unless orderBy says otherwise.",
        equal_arguments=("type",),
    ),
    project_column="project_id",
    # the display order: the model's order, then the name (the id breaks ties)
    default_order=(("sort_order", False), ("name", False)),
)
SEGMENT = Entity(
    "segment",
    "segments",
    "A named slice of a model's data.",
    _common(
        _NAME,
        Column("description", Kind.STRING, searchable=True, description="What the segment is for."),
        Column(
            "definition",
            Kind.STRING,
            searchable=True,
            description="A filter expression over the model's columns, e.g. `age >= 18`.",
        ),
    ),
    relations=_UNDER_MODEL,
    through=_ORGANIZATION_OF_PROJECT,
    user_refs=(
        UserRef("createdBy", "created_by", "Who created the segment."),
        UserRef("updatedBy", "updated_by", "Who changed the segment last."),
    ),
    root_list=RootList("segments", "The segments the caller sees."),
    project_column="project_id",
    deleted_column="deleted_at",
)

EVENT = Entity(
    "event",
    "events",
    "Something that happened in an environment (a prediction, a feedback, ...), as sent.",
    (
        _ID,
        Column("timestamp", Kind.DATETIME, description="When it happened, as sent."),
        Column("received_at", Kind.DATETIME, description="When it was stored."),
        Column("event", Kind.STRING, searchable=True, description='Its name, e.g. "prediction".'),
        Column("distinct_id", Kind.STRING, searchable=True, description="Who or what it is about."),
        Column(
            "person_id",
            Kind.UUID,
            nullable=True,
            orderable=False,
            description="The person it is about, when known.",
        ),
        Column(
            "properties",
            Kind.JSON,
            orderable=False,
            description="Its properties: a JSON object (filtered by `properties` filters).",
        ),
    ),
    relations=_UNDER_ENVIRONMENT,
    through=_ABOVE_ENVIRONMENT,
    root_list=RootList("events", "The events the caller sees, newest first."),
    project_column="project_id",
    time_column="timestamp",
    default_order=(("timestamp", True),),
)

SECRET = Entity(
    "secret",
    "secrets",
    "A value of an environment's configuration kept encrypted (a credential, an API key).",
    _common(
        Column(
            "key",
            Kind.STRING,
            searchable=True,
            description="Its name, unique in the environment (the environment name rule).",
        ),
        Column("comment", Kind.STRING, searchable=True, description="What it is for."),
        Column("version", Kind.INT, description="1 when created, bumped by every update."),
    ),
    relations=(
        Relation("environment", "environment_id", "environment"),
        Relation("project", "project_id", "project"),
    ),
    through=(
        Through("model", ("environment", "model")),
        Through("organization", ("project", "organization")),
    ),
    user_refs=(
        UserRef("createdBy", "created_by", "Who created the secret."),
        UserRef("updatedBy", "updated_by", "Who changed the secret last."),
    ),
    # the value is no column: its ciphertext never leaves the database but for the
    # one resolver that decrypts it (schema/secrets.py), so no list, filter, order or
    # compiled statement can reach it
    project_column="project_id",
)

# users are not an entity of the graph's lists (no root list, no scope: a user is
# read as part of the row that names them), but rows name them (`createdBy`), and
# filters on those references (`UserFilter`) come from this description
USER = Entity(
    "user",
    "users",
    "A person with access to the platform.",
    _common(_NAME, Column("email", Kind.STRING, masked=True, description="Their e-mail address.")),
)

API_TOKEN = Entity(
    "api_token",
    "api_tokens",
    "An API token of the caller (its secret is shown once, when it is made).",
    (
        _ID,
        Column("name", Kind.STRING, searchable=True, description="What the token is for."),
        Column(
            "prefix",
            Kind.STRING,
            searchable=True,
            description="Its first characters, as the command line prints them (`egt_AbCd1234`).",
        ),
        _CREATED_AT,
        Column(
            "last_used_at",
            Kind.DATETIME,
            nullable=True,
            description="When it was last used (to the minute).",
        ),
        Column("expires_at", Kind.DATETIME, nullable=True, description="Null: never."),
        Column(
            "revoked_at",
            Kind.DATETIME,
            nullable=True,
            description="When it was revoked (null: it is not); a revoked token is refused.",
        ),
    ),
    owner_column="user_id",
    scope_name="token",
    default_order=(("created_at", True),),
)

EXPORT = Entity(
    "export",
    "exports",
    "An environment's events written to a file (CSV, JSON or NDJSON) in the background.",
    (
        _ID,
        Column("format", Kind.ENUM, enum=ExportFormat, description="The file's format."),
        Column("status", Kind.ENUM, enum=ExportStatus, description="Where the export stands."),
        Column("rows_written", Kind.BIGINT, description="Rows in the file so far."),
        Column(
            "rows_total",
            Kind.BIGINT,
            nullable=True,
            description="Rows the file will hold, known before the first is written.",
        ),
        Column("byte_size", Kind.BIGINT, nullable=True, description="The finished file's size."),
        Column("error", Kind.STRING, nullable=True, searchable=True, description="Why it failed."),
        Column(
            "content_url",
            Kind.STRING,
            nullable=True,
            orderable=False,
            description="Where to download the file (bearer token, scope export:read); set once "
            "SUCCEEDED.",
        ),
        _CREATED_AT,
        _UPDATED_AT,
        Column(
            "started_at", Kind.DATETIME, nullable=True, description="When a worker began writing."
        ),
        Column(
            "finished_at",
            Kind.DATETIME,
            nullable=True,
            description="When it stopped (succeeded, failed or was cancelled).",
        ),
        Column(
            "expires_at",
            Kind.DATETIME,
            description="When the file is deleted and the export becomes EXPIRED.",
        ),
    ),
    relations=_UNDER_ENVIRONMENT,
    through=_ABOVE_ENVIRONMENT,
    user_refs=(UserRef("createdBy", "created_by", "Who asked for the export."),),
    root_list=RootList("exports", "The exports the caller sees, newest first."),
    project_column="project_id",
    default_order=(("created_at", True),),
)

EVALUATION = Entity(
    "evaluation",
    "evaluations",
    "A named rule over an environment's events: the events holding all its conditions "
    "match it. Deleted only softly (`updateEvaluation` with `deleted: true`).",
    _common(
        Column(
            "name",
            Kind.STRING,
            searchable=True,
            description="Its name, unique among the environment's live evaluations.",
        ),
        Column("description", Kind.STRING, searchable=True, description="What it is for."),
        Column("enabled", Kind.BOOLEAN, description="Whether the rule is in use."),
        Column(
            "prompt",
            Kind.STRING,
            searchable=True,
            orderable=False,
            description="The instructions given to whatever judges the matching events.",
        ),
    ),
    relations=(
        Relation("environment", "environment_id", "environment"),
        Relation("model", "model_id", "model"),
        Relation("project", "project_id", "project"),
    ),
    through=_ORGANIZATION_OF_PROJECT,
    user_refs=(
        UserRef("createdBy", "created_by", "Who created the evaluation."),
        UserRef("updatedBy", "updated_by", "Who changed the evaluation last."),
    ),
    root_list=RootList("evaluations", "The evaluations the caller sees."),
    project_column="project_id",
    deleted_column="deleted_at",
)

ENTITIES: dict[str, Entity] = {
    e.name: e
    for e in (
        ORGANIZATION,
        PROJECT,
        MODEL,
        ENVIRONMENT,
        SEGMENT,
        EVENT,
        EXPORT,
        API_TOKEN,
        SECRET,
        EVALUATION,
    )
}
