"""What every write shares: translated errors, scopes, and who may write where.

A write runs in one transaction (`Session.transaction()`) or, where it can,
as one statement (`Write`); any error leaves nothing written. Driver errors
become domain errors here, so the layers above never see asyncpg: a unique
violation is a conflict naming the input field of its constraint, a check
violation bad input, a missing parent not found.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from db.binder import Binder
from db.entities import PROJECT, Entity
from db.errors import BadInput, Conflict, Forbidden, NotFound
from db.identifiers import ident, qualified
from db.pool import Queryable
from db.viewer import Viewer, require_scope
from db.visibility import visible

# A unique violation names its constraint (db/migrations/0001_initial.sql): the
# input field whose value clashed, and what to tell the client.
UNIQUE_CONSTRAINTS: dict[str, tuple[str, str]] = {
    "organizations_name_key": ("name", "the name is taken by another organization"),
    "projects_organization_id_name_key": ("name", "the name is taken by another project here"),
    # A model is one name in several versions, so a name already in the project is
    # normal; what clashes is a version that name already has. `version` is the
    # field to change (and the one to name even when it was left to its default).
    "models_project_id_name_version_key": (
        "version",
        "the project already has a model with this name and version",
    ),
    "environments_model_id_name_key": ("name", "the name is taken by another environment here"),
    "segments_model_id_name_key": ("name", "the name is taken by another segment here"),
    "users_email_key": ("email", "a user with this e-mail already exists"),
    "evaluations_environment_id_name_key": (
        "name",
        "the name is taken by another evaluation of this environment",
    ),
    "secrets_environment_id_key_key": ("key", "the key is taken by another secret here"),
}


@contextmanager
def translated(what: str, name_field: str | None = None) -> Iterator[None]:
    """Turn constraint violations of a write on `what` into domain errors; a unique
    violation names the input field of its constraint, or `name_field` when given
    (a write whose input has no such field: restoring a segment has only `id`)."""
    try:
        yield
    except asyncpg.UniqueViolationError as error:
        field, message = UNIQUE_CONSTRAINTS.get(
            error.constraint_name or "", (None, f"this {what} conflicts with another one")
        )
        raise Conflict(message, field=name_field or field) from None
    except asyncpg.CheckViolationError as error:
        raise BadInput(f"invalid {what}: {error.constraint_name}") from None
    except asyncpg.ForeignKeyViolationError:
        raise NotFound(f"the parent of this {what} does not exist") from None


def require_unchanged(current: asyncpg.Record, expected: datetime | None, what: str) -> None:
    """CONFLICT when the row changed since the caller read it (no lost update)."""
    _require_unchanged_at(current["updated_at"], expected, what)


def _require_unchanged_at(updated_at: datetime, expected: datetime | None, what: str) -> None:
    if expected is not None and updated_at != expected:
        raise Conflict(
            f"the {what} changed since it was read (expectedUpdatedAt is stale)",
            field="expectedUpdatedAt",
        )


@dataclass(frozen=True, slots=True)
class FromCurrent:
    """A value `entity_update` computes from the row as it was (`c` in its statement):
    `sql(bind)` is the SQL expression."""

    sql: Callable[[Binder], str]


def sql_value(text: str) -> FromCurrent:
    """A value given as SQL that binds nothing (`now()`, `NULL`, a literal)."""
    return FromCurrent(lambda _: text)


def _assignments(entity: Entity, changes: dict[str, Any], bind: Binder, table: str) -> str:
    """SQL: SET's list for the given columns (None: leave as is) of `table`'s row.
    Column names come from `changes` keys, which callers take from fixed field lists."""
    key = ident("id")
    return ", ".join(
        [
            f"{ident(_writable(entity, name))} = "
            + (value.sql(bind) if isinstance(value, FromCurrent) else bind(value))
            for name, value in changes.items()
            if value is not None
        ]
        or [f"{key} = {qualified(table, 'id')}"]  # nothing to set: the row is still returned
    )


def _locked_select(
    entity: Entity,
    row_id: UUID,
    viewer: Viewer,
    bind: Binder,
    *,
    share: bool,
    with_hidden: bool,
    writer: bool = False,
    extra: str = "",
    owner: str | None = None,
    admin: bool = False,
    lock: bool = True,
) -> str:
    """SQL: the visible row `row_id` of `entity`, locked (unless not `lock`); with
    `writer`, also `_writer`: whether the caller writes in its project (or is the user
    its column `owner` names; with `admin`, is an ADMIN of its organization); `extra`
    columns after."""
    wanted = bind(row_id)
    columns = "t.*"
    if writer:
        project = entity.project_column
        user = "true"
        if not viewer.superuser:
            caller = bind(viewer.user_id)
            if project is None:  # an organization: its ADMINs write under it
                user = organization_admin(qualified("t", "id"), caller)
            elif admin:
                user = organization_admin(qualified("t", "organization_id"), caller)
            else:
                user = _writer(qualified("t", project), caller)
            if owner is not None:
                user = f"({qualified('t', owner)} = {caller} OR {user})"
        columns += f", {user} AS _writer"
    columns += extra
    return (
        f"SELECT {columns} FROM {ident(entity.table)} t "
        f"WHERE {qualified('t', 'id')} = {wanted} "
        f"AND {visible(entity, 't', viewer, bind, with_hidden=with_hidden)}"
        + (f" FOR {'SHARE' if share else 'UPDATE'} OF t" if lock else "")
    )


def _written(
    row: asyncpg.Record | None, entity: Entity, field: str, *, admin: bool = False
) -> asyncpg.Record:
    if row is None:
        raise NotFound(f"{entity.name} not found", field=field)
    if not row["_writer"]:  # a visible row's project is visible: a reader
        raise Forbidden(_READER if entity.project_column is not None and not admin else NOT_ADMIN)
    return row


async def writable_row(
    tx: Queryable,
    entity: Entity,
    row_id: UUID,
    viewer: Viewer,
    field: str,
    *,
    share: bool = False,
    with_hidden: bool = False,
) -> asyncpg.Record:
    """The visible row `row_id` of `entity`, locked for the rest of the transaction
    (FOR UPDATE: it will change; FOR SHARE: it must not change under a child's
    insert), whose caller must be a writer in its project: what a write of several
    statements does first, to the row it changes or the parent it adds to. One statement
    (the row, locked, and whether the caller writes there): NOT_FOUND naming `field`
    when absent or invisible, FORBIDDEN for a reader. The record has the row's
    columns and `_writer`."""
    bind = Binder()
    sql = _locked_select(
        entity, row_id, viewer, bind, share=share, with_hidden=with_hidden, writer=True
    )
    return _written(await tx.fetchrow(sql, *bind.values), entity, field)


async def locked_call(
    conn: Queryable,
    viewer: Viewer,
    entity: Entity,
    row_id: UUID,
    function: str,
    *args: Any,
    columns: str = "outcome",
    field: str = "id",
    share: bool = False,
    lock: bool = True,
    admin: bool = False,
) -> asyncpg.Record:
    """ONE statement: the visible row `row_id` of `entity`, locked FOR UPDATE (FOR
    SHARE with `share`; not at all unless `lock`: the function takes its own locks,
    in their order), and whether the caller writes there (with `admin`: is an ADMIN
    of its organization); then, for a writer, `function(row id, *args)`, a function
    of db/migrations/0010_locked_writes.sql that reads after the lock and writes. Its
    statements each take a new snapshot, which sees what was committed while the
    lock was waited for: a statement alone would read with the one it began with.
    NOT_FOUND naming `field` when unseen, FORBIDDEN for a reader; the record holds
    the row's columns as found and `columns`, the function's answer (named in that
    order)."""
    bind = Binder()
    current = _locked_select(
        entity,
        row_id,
        viewer,
        bind,
        share=share,
        with_hidden=False,
        writer=True,
        admin=admin,
        lock=lock,
    )
    given = "".join(f", {bind(value)}" for value in args)
    # the lock is taken when the CTE is read, before the function runs for its row;
    # a reader's call gets NULL, which the (STRICT) functions answer without a look
    row = await conn.fetchrow(
        f"WITH c AS MATERIALIZED ({current}) SELECT c.*, f.* FROM c, LATERAL "
        f"{function}(CASE WHEN c._writer THEN c.id END{given}) AS f({columns})",
        *bind.values,
    )
    return _written(row, entity, field, admin=admin)


@dataclass(frozen=True, slots=True)
class Write:
    """One write as ONE statement (atomic without a transaction around it), its input
    checked. `ctes(bind)` is a WITH list whose `_new` holds the written row, or no
    row when nothing was written (the caller cannot see the row or its parent, may
    not write there, or it changed since read); `source` is the FROM list of the
    final SELECT, the one row of the checks joined to `_new n`, and `checks` the
    columns of the checks that `errors()` reads.

    The resolver path selects the row (`row()`), whose errors come from the checks;
    the compiled executor builds the payload's JSON from `n` in the same statement
    (db/json_reads.py: `write_statement`) and answers only a written row."""

    entity: Entity  # of the row written (constraint errors name it)
    ctes: Callable[[Binder], str]
    source: str
    checks: str
    errors: Callable[[asyncpg.Record | None], asyncpg.Record]
    # the input field a unique violation names, when not its constraint's own
    # (`translated()`'s `name_field`)
    conflict_field: str | None = None

    def constraints(self) -> AbstractContextManager[None]:
        """Its constraint violations as domain errors (`translated()`)."""
        return translated(self.entity.name, self.conflict_field)

    async def row(self, conn: Queryable) -> asyncpg.Record:
        """The written row; the domain error of a failed check or constraint."""
        bind = Binder()
        ctes = self.ctes(bind)
        with self.constraints():
            row = await conn.fetchrow(
                f"{ctes} SELECT n.*, {self.checks} FROM {self.source}", *bind.values
            )
        return self.errors(row)


def insertion_under(
    viewer: Viewer,
    entity: Entity,
    parent: Entity,
    parent_id: UUID,
    *,
    field: str,
    insert: Callable[[Binder], str],
    share: bool = True,
    writer: bool = True,
) -> Write:
    """A new row of `entity` under a parent: the parent locked FOR SHARE (it must not
    go away under the insert; FOR UPDATE without `share`: inserts under it take
    turns) if the caller sees it, the caller a writer in its project (unless not
    `writer`: a reader of the parent may add to it), then `insert(bind)`: an
    INSERT ... SELECT ... FROM _parent p WHERE p._writer RETURNING *, `p` the
    parent's row. Errors: NOT_FOUND naming `field`, FORBIDDEN for a reader, the
    domain error of a violated constraint."""

    def ctes(bind: Binder) -> str:
        locked = _locked_select(
            parent, parent_id, viewer, bind, share=share, with_hidden=False, writer=writer
        )
        return f"WITH _parent AS ({locked}), _new AS ({insert(bind)})"

    return Write(
        entity,
        ctes,
        source="_parent p LEFT JOIN _new n ON true",
        checks="p._writer" if writer else "true AS _writer",
        errors=lambda row: _written(row, parent, field),
    )


def _writable(entity: Entity, name: str) -> str:
    # a column the registry does not expose (updated_by, deleted_at, ...) is
    # named as it is: `changes` keys come from fixed lists in the code
    return name if entity.column_kind(name) is None else entity.column(name).name


_READER = "writing here needs the EDITOR role on the project (or ADMIN of its organization)"


def _writer(project: str, user: str) -> str:
    """SQL: whether the user `user` may write in the project `project` (SQL values):
    an ADMIN of its organization or an EDITOR of the project."""
    return (
        "(EXISTS (SELECT 1 FROM projects wp JOIN organization_members wom "
        f"ON wom.organization_id = wp.organization_id WHERE wp.id = {project} "
        f"AND wom.user_id = {user} AND wom.role = 'ADMIN') "
        "OR EXISTS (SELECT 1 FROM project_members wpm "
        f"WHERE wpm.project_id = {project} AND wpm.user_id = {user} AND wpm.role = 'EDITOR'))"
    )


NOT_ADMIN = "this needs the ADMIN role in the organization"


def organization_admin(organization: str, user: str) -> str:
    """SQL: whether the user `user` is an ADMIN of the organization `organization`."""
    return (
        "EXISTS (SELECT 1 FROM organization_members wom "
        f"WHERE wom.organization_id = {organization} AND wom.user_id = {user} "
        "AND wom.role = 'ADMIN')"
    )


@dataclass(frozen=True, slots=True)
class Guard:
    """A check of an update besides the caller's role and staleness: `sql(bind)` a
    value over the locked row (`t`), NULL when the write may go on; `refuse(value)`
    raises the domain error of any other value."""

    sql: Callable[[Binder], str]
    refuse: Callable[[Any], None]


def entity_update(
    viewer: Viewer,
    entity: Entity,
    row_id: UUID,
    *,
    changes: dict[str, Any],
    expected_updated_at: datetime | None,
    with_hidden: bool = False,
    conflict_field: str | None = None,
    only_if: str | None = None,
    guard: Guard | None = None,
    field: str = "id",
    owner: str | None = None,
) -> Write:
    """The one update: scope, then the row locked if seen (a soft-deleted one too
    `with_hidden`), the caller's role in its project, no lost update, the `guard`,
    and the given columns set (the caller has validated them). A row for which
    `only_if` (SQL over the locked row `c`) is false is answered as it is, not
    written. The user a column `owner` names may write it whatever their role.
    NOT_FOUND, FORBIDDEN, CONFLICT (stale, or a unique value taken: naming
    `conflict_field` when given) as `writable_row()` (NOT_FOUND naming `field`),
    `require_unchanged()` and `translated()` say; then the guard's own error."""
    require_scope(viewer, f"{entity.name}:write")
    table = ident(entity.table)

    def ctes(bind: Binder) -> str:
        current = _locked_select(
            entity,
            row_id,
            viewer,
            bind,
            share=False,
            with_hidden=with_hidden,
            writer=True,
            extra="" if guard is None else f", {guard.sql(bind)} AS _guard",
            owner=owner,
        )
        allowed = "c._writer"
        if expected_updated_at is not None:
            allowed += f" AND c.updated_at = {bind(expected_updated_at)}::timestamptz"
        if guard is not None:
            allowed += " AND c._guard IS NULL"
        update = (
            f"UPDATE {table} t SET {_assignments(entity, changes, bind, 't')} FROM _current c "
            f"WHERE {qualified('t', 'id')} = c.id AND {allowed}"
        )
        if only_if is None:
            return f"WITH _current AS ({current}), _new AS ({update} RETURNING t.*)"
        # a row left alone is read as the statement found it: the UPDATE skips it
        return (
            f"WITH _current AS ({current}), _changed AS ({update} AND ({only_if}) "
            f"RETURNING t.*), _new AS (SELECT * FROM _changed UNION ALL SELECT t.* "
            f"FROM {table} t JOIN _current c ON {qualified('t', 'id')} = c.id "
            f"WHERE {allowed} AND NOT ({only_if}))"
        )

    def errors(row: asyncpg.Record | None) -> asyncpg.Record:
        written = _written(row, entity, field)
        _require_unchanged_at(written["_was"], expected_updated_at, entity.name)
        if guard is not None and written["_guard"] is not None:
            guard.refuse(written["_guard"])
        return written

    return Write(
        entity,
        ctes,
        source="_current c LEFT JOIN _new n ON true",
        checks="c._writer, c.updated_at AS _was" + ("" if guard is None else ", c._guard"),
        errors=errors,
        conflict_field=conflict_field,
    )


def removal(viewer: Viewer, entity: Entity, row_id: UUID) -> Write:
    """Delete a row for good: scope, the row locked if seen, the caller's role in its
    project, then DELETE (a row nothing else refers to). NOT_FOUND when unseen,
    FORBIDDEN for a reader; `_new` holds the row as it was."""
    require_scope(viewer, f"{entity.name}:write")

    def ctes(bind: Binder) -> str:
        current = _locked_select(
            entity, row_id, viewer, bind, share=False, with_hidden=False, writer=True
        )
        return (
            f"WITH _current AS ({current}), _new AS (DELETE FROM {ident(entity.table)} t "
            f"USING _current c WHERE {qualified('t', 'id')} = c.id AND c._writer RETURNING t.*)"
        )

    return Write(
        entity,
        ctes,
        source="_current c LEFT JOIN _new n ON true",
        checks="c._writer",
        errors=lambda row: _written(row, entity, "id"),
    )


def membership_change(
    viewer: Viewer,
    project_id: UUID,
    change: Callable[[Binder], str],
    refuse: Callable[[], None],
) -> Write:
    """A change of a project's members, by an ADMIN of its organization, in one
    statement: the project locked FOR SHARE if seen, the caller's role, then
    `change(bind)`: an INSERT or DELETE of `project_members` over `_current c` (the
    project; `c._writer`: the caller is an ADMIN) RETURNING project_id, no row when
    the user it names is not there (`refuse()` raises why). `_new` is the project.
    NOT_FOUND naming `projectId`, FORBIDDEN for anyone else (the caller has
    checked the scope)."""

    def ctes(bind: Binder) -> str:
        admin = "true"
        if not viewer.superuser:
            admin = organization_admin(qualified("t", "organization_id"), bind(viewer.user_id))
        current = _locked_select(
            PROJECT, project_id, viewer, bind, share=True, with_hidden=False,
            extra=f", {admin} AS _writer",
        )  # fmt: skip
        return (
            f"WITH _current AS ({current}), _changed AS ({change(bind)}), "
            f"_new AS (SELECT t.* FROM {ident(PROJECT.table)} t "
            f"JOIN _changed ch ON {qualified('t', 'id')} = ch.project_id)"
        )

    def errors(row: asyncpg.Record | None) -> asyncpg.Record:
        if row is None:
            raise NotFound(f"{PROJECT.name} not found", field="projectId")
        if not row["_writer"]:
            raise Forbidden(NOT_ADMIN)
        if not row["_changed"]:
            refuse()
        return row

    return Write(
        PROJECT,
        ctes,
        source="_current c LEFT JOIN _new n ON true",
        checks="c._writer, EXISTS (SELECT 1 FROM _changed) AS _changed",
        errors=errors,
    )


def deletion_mark(viewer: Viewer, entity: Entity, row_id: UUID, *, deleted: bool) -> Write:
    """Hide a live row (`deleted`) or bring a hidden one back, the caller its
    `updated_by`: an `entity_update`. Hiding: an unseen or already hidden row is
    NOT_FOUND. Bringing back: a live row is answered as it is, unchanged; CONFLICT
    naming `id` when a live row has taken its unique name. FORBIDDEN for a reader."""
    column = entity.deleted_column or "deleted_at"
    return entity_update(
        viewer,
        entity,
        row_id,
        changes={
            column: sql_value("now()" if deleted else "NULL"),
            "updated_by": viewer.user_id,
        },
        expected_updated_at=None,
        with_hidden=not deleted,
        conflict_field=None if deleted else "id",
        only_if=None if deleted else f"c.{ident(column)} IS NOT NULL",
    )
