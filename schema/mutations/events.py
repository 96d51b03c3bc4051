"""`ingestEvents`: up to 1,000 events into an environment, all or nothing,
idempotent by uuid (the bulk route takes more; both go through db/ingest.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import strawberry
from strawberry import UNSET
from strawberry.scalars import JSON

from db.entities import ENVIRONMENT
from db.errors import BadInput
from db.event_rows import BadEvent, Row, event_row
from db.ingest import SCOPE, Refused, ingest_rows
from db.viewer import require_scope
from schema.ids import expect_global_id
from schema.mutations.common import INPUT, Info, given, id_field
from schema.types import node_type, object_of

MAX_EVENTS = 1_000


@strawberry.input(description="One event, as it happened.")
class EventInput:
    uuid: UUID | None = strawberry.field(
        default=UNSET,
        description="Its id, which makes ingestion idempotent: an event whose uuid the "
        "environment holds already is skipped. Default: a new one.",
    )
    timestamp: datetime = strawberry.field(
        description="When it happened: ISO 8601 with a time zone."
    )
    event: str = strawberry.field(description='Its name, 1 to 200 characters, e.g. "prediction".')
    distinct_id: str = strawberry.field(description="Who did it, 1 to 200 characters.")
    person_id: UUID | None = strawberry.field(
        default=UNSET, description="The person it is about, when known."
    )
    properties: JSON | None = strawberry.field(
        default=UNSET, description="A JSON object (default: {})."
    )


@strawberry.input(description="Events for one environment.")
class IngestEventsInput:
    environment_id: strawberry.ID = id_field("the environment (enabled: CONFLICT otherwise)")
    events: list[EventInput] = strawberry.field(description=f"At most {MAX_EVENTS:,}.")


@strawberry.type(description="What `ingestEvents` stored.")
class IngestEventsPayload:
    accepted: int = strawberry.field(description="Events stored.")
    duplicates: int = strawberry.field(
        description="Events skipped: their uuid was held already (or sent twice)."
    )
    environment_id: strawberry.Private[UUID]

    @strawberry.field(
        description="The environment, its eventCount updated (null without environment:read).",
        graphql_type=node_type(ENVIRONMENT) | None,
    )
    async def environment(self, info: Info) -> Any:
        """Read after the write, as any read (a lookup by id)."""
        if not info.context.authenticated.has_scope("environment:read") and not (
            info.context.authenticated.has_scope("environment:write")
        ):
            return None
        row = await info.context.loaders.by_id(ENVIRONMENT).load(self.environment_id)
        return None if row is None else object_of(ENVIRONMENT, row)


def _rows(events: list[EventInput]) -> list[Row]:
    if len(events) > MAX_EVENTS:
        raise BadInput(
            f"at most {MAX_EVENTS:,} events a call (the bulk route takes more)", field="events"
        )
    rows = []
    for index, sent in enumerate(events):
        try:
            rows.append(
                event_row(
                    index + 1,
                    {
                        "uuid": given(sent.uuid),
                        "timestamp": sent.timestamp,
                        "event": sent.event,
                        "distinctId": sent.distinct_id,
                        "personId": given(sent.person_id),
                        "properties": given(sent.properties),
                    },
                )
            )
        except BadEvent as error:
            field = f"events[{index}].{error.field}" if error.field else f"events[{index}]"
            raise BadInput(f"events[{index}]: {error.message}", field=field) from None
    return rows


@strawberry.type
class EventMutations:
    """Writes of events."""

    @strawberry.mutation(
        description="Store events in an environment (EDITOR or organization ADMIN; scope "
        "event:write): all or nothing; events already held are skipped as duplicates."
    )
    async def ingest_events(
        self, info: Info, input: Annotated[IngestEventsInput, INPUT]
    ) -> IngestEventsPayload:
        """Check every event, then ingest them in one transaction."""
        context = info.context
        require_scope(context.authenticated, SCOPE)  # refused before any event is checked
        environment_id = expect_global_id(input.environment_id, "Environment", "environmentId")
        try:
            ingested = await ingest_rows(
                context.session, context.authenticated, environment_id, _rows(input.events)
            )
        except Refused as refused:
            # lines are the events' positions from 1; the field names the event
            first = refused.errors[0]
            raise BadInput(
                f"events[{first.line - 1}]: {first.message}",
                field=f"events[{first.line - 1}].{first.field}",
            ) from None
        context.loaders.forget()
        return IngestEventsPayload(
            accepted=ingested.accepted,
            duplicates=ingested.duplicates,
            environment_id=environment_id,
        )
