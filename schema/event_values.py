"""`Environment.eventNames`, `propertyKeys` and `propertyValues`: what its events
hold, for pickers. Resolver-path fields (the compiled path answers lists and
objects; an operation selecting these is answered by the resolvers)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Optional

import strawberry
from strawberry.scalars import JSON

from db import event_values
from db.entities import EVENT
from db.viewer import require_read
from schema.context import Context
from schema.fields import argument, generated_field, required_argument

Info = strawberry.Info[Context, None]
_WINDOW = (
    argument("since", Optional[datetime], "From this time on (inclusive)."),  # noqa: UP045
    argument("until", Optional[datetime], "Before this time (exclusive)."),  # noqa: UP045
)


def _first() -> Any:
    return argument(
        "first", int, f"At most this many (0 to {event_values.MAX_VALUES}).", default=100
    )


def _in_window(fetch: Callable[..., Awaitable[list[str]]]) -> Any:
    """A resolver of the distinct `fetch` values of the environment's events in a window."""

    async def resolve(
        root: Any,
        info: Info,
        since: datetime | None = None,
        until: datetime | None = None,
        first: int = 100,
    ) -> list[str]:
        require_read(info.context.authenticated, EVENT.scope)
        return await fetch(info.context.session, root.uuid, since, until, first)

    return resolve


async def _values(
    root: Any, info: Info, key: str, search: str | None = None, first: int = 100
) -> list[Any]:
    require_read(info.context.authenticated, EVENT.scope)
    return await event_values.property_values(info.context.session, root.uuid, key, search, first)


def environment_fields() -> dict[str, Any]:
    """The fields an Environment gets besides its description's."""
    return {
        "event_names": generated_field(
            list[str],
            plan=None,
            description="The distinct names of its events in the window, in order.",
            resolver=_in_window(event_values.event_names),
            arguments=[*_WINDOW, _first()],
        ),
        "property_keys": generated_field(
            list[str],
            plan=None,
            description="The distinct keys of its events' properties in the window, in order.",
            resolver=_in_window(event_values.property_keys),
            arguments=[*_WINDOW, _first()],
        ),
        "property_values": generated_field(
            list[JSON],
            plan=None,
            description="The distinct values of one property key (whose text holds `search`, "
            "case-insensitive), in order.",
            resolver=_values,
            arguments=[
                required_argument("key", str, "A key of the properties (top level)."),
                argument(
                    "search",
                    Optional[str],  # noqa: UP045
                    "Only values whose text holds this, ignoring case.",
                ),
                _first(),
            ],
        ),
    }
