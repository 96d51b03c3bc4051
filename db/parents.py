"""A row's parents in SQL, direct (`project`) or reached through others
(`organization` through `project`): what a filter or an ordering on a parent reads.

Both read the parent as the parent field does: every entity on the way needs
its read scope, and must be visible (a filter on a parent the viewer may not
see would otherwise reveal its values by probing, an ordering by their rank).
"""

from __future__ import annotations

from collections.abc import Callable

from db.binder import Binder
from db.entities import Entity
from db.errors import BadInput
from db.identifiers import ident, qualified
from db.viewer import Viewer, require_read
from db.visibility import visible

Hops = tuple[tuple[Entity, str], ...]


def parent_hops(entity: Entity, name: str, viewer: Viewer, *, field: str) -> Hops:
    """The hops (parent entity, column of the row before it) to `entity`'s parent
    `name`, each parent's read scope checked; BadInput (naming `field`) when
    `entity` has no such parent."""
    try:
        hops = entity.path(name)
    except KeyError:
        raise BadInput(f"{entity.name} has no relation {name!r}", field=field) from None
    # where every parent filter and ordering is bound (both executors, at any
    # depth of and/or/not): a filter is a way of reading
    for target, _ in hops:
        require_read(viewer, target.scope)
    return hops


def parent_in(
    alias: str,
    hops: Hops,
    condition: Callable[[Entity, str], str],
    viewer: Viewer,
    bind: Binder,
) -> str:
    """A predicate on `alias`: its parent at the end of `hops` is visible and meets
    `condition(parent entity, its alias)`, as is every row on the way."""
    (target, column), *rest = hops
    inner = f"{alias}_{target.name}"
    test = parent_in(inner, tuple(rest), condition, viewer, bind) if rest else None
    return (
        f"{qualified(alias, column)} IN (SELECT {qualified(inner, 'id')} "
        f"FROM {ident(target.table)} {inner} "
        f"WHERE {visible(target, inner, viewer, bind)} "
        f"AND {test or condition(target, inner)})"
    )


def parent_value(alias: str, hops: Hops, column: str, viewer: Viewer, bind: Binder) -> str:
    """`column` of `alias`'s parent at the end of `hops`, as a scalar subquery (NULL
    should a parent on the way not be visible)."""
    sources, tests, before = [], [], alias
    for index, (target, link) in enumerate(hops):
        inner = f"{alias}_{target.name}"
        joined = f"{qualified(inner, 'id')} = {qualified(before, link)}"
        if index == 0:
            sources.append(f"{ident(target.table)} {inner}")
            tests.append(joined)
        else:
            sources.append(f"JOIN {ident(target.table)} {inner} ON {joined}")
        tests.append(visible(target, inner, viewer, bind))
        before = inner
    return (
        f"(SELECT {qualified(before, column)} FROM {' '.join(sources)} WHERE {' AND '.join(tests)})"
    )
