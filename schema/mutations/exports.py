"""`createExport` / `cancelExport`: an environment's events to a file, made in the
background by the `serve` processes (db/exports.py, db/export_jobs.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Optional

import strawberry
from strawberry import UNSET

from db.entities import EVENT, EXPORT, ExportFormat
from db.exports import ExportRequest, export_cancellation, export_creation
from schema.connections import list_arguments
from schema.ids import expect_global_id
from schema.inputs import FILTERS
from schema.mutations.common import INPUT, Info, given, id_field, object_field
from schema.scalars import ENUMS
from schema.types import object_of

assert ExportFormat in ENUMS, "made a GraphQL enum by schema/scalars.py"


@strawberry.input(description="Which events of an environment to export, and how.")
class CreateExportInput:
    environment_id: strawberry.ID = id_field("the environment whose events are exported")
    format: ExportFormat = strawberry.field(description="The file's format.")
    since: datetime | None = strawberry.field(
        default=UNSET, description="Events from this time on (inclusive)."
    )
    until: datetime | None = strawberry.field(
        default=UNSET, description="Events before this time (exclusive)."
    )
    filter: Any = strawberry.field(
        default=UNSET,
        graphql_type=Optional[FILTERS[EVENT.name]],  # noqa: UP045 (a runtime value)
        description="Which events, as `events(filter:)` takes it.",
    )
    expires_at: datetime | None = strawberry.field(
        default=UNSET,
        description="When the file is deleted (default: 7 days from now; at most 366).",
    )


@strawberry.input(description="The export to cancel.")
class CancelExportInput:
    id: strawberry.ID = id_field("the export")


@strawberry.type(description="What createExport answers.")
class CreateExportPayload:
    export: Any = object_field(EXPORT)


@strawberry.type(description="What cancelExport answers.")
class CancelExportPayload:
    export: Any = object_field(EXPORT)


@strawberry.type
class ExportMutations:
    """Writes of exports."""

    @strawberry.mutation(
        description="Export an environment's events (oldest first) to a file, in the "
        "background (scope export:write and the events' read scope; the environment's "
        "read access is enough). Follow `status` and `rowsWritten`; download from "
        "`contentUrl` once SUCCEEDED."
    )
    async def create_export(
        self, info: Info, input: Annotated[CreateExportInput, INPUT]
    ) -> CreateExportPayload:
        """Check the events' window and filter as a list would, then queue the job."""
        context = info.context
        environment_id = expect_global_id(input.environment_id, "Environment", "environmentId")
        # the list's own conversion: the export writes what `events` would list
        request, _ = list_arguments(
            EVENT,
            {"since": input.since, "until": input.until, "filter": input.filter},
            context.authenticated,
            default_size=context.default_page_size,
            max_size=context.max_page_size,
        )
        row = await export_creation(
            context.authenticated,
            ExportRequest(
                environment_id,
                input.format,
                request.filter,
                given(input.expires_at),
            ),
            now=datetime.now(UTC),
        ).row(context.session)
        context.loaders.forget()
        return CreateExportPayload(export=object_of(EXPORT, row))

    @strawberry.mutation(
        description="Stop an export that is waiting or running (the creator, or an EDITOR "
        "or organization ADMIN; scope export:write)."
    )
    async def cancel_export(
        self, info: Info, input: Annotated[CancelExportInput, INPUT]
    ) -> CancelExportPayload:
        """Cancel, then answer with the export as it is now."""
        context = info.context
        export_id = expect_global_id(input.id, "Export")
        row = await export_cancellation(context.authenticated, export_id).row(context.session)
        context.loaders.forget()
        return CancelExportPayload(export=object_of(EXPORT, row))
