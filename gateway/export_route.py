"""`GET /v1/exports/{id}/content` (and HEAD): an export's file, streamed.

The same bearer token as `/graphql`, the scope `export:read`, and an export
the caller sees (404 otherwise, whether absent or another tenant's); 409
while it has no file (not finished, failed, cancelled), 410 once expired.
The file goes out as aiohttp serves files (sendfile, `Content-Length`,
`ETag` and `Last-Modified`, conditional requests, `Range`), with its media
type and `Content-Disposition: attachment`.
"""

from __future__ import annotations

import logging

from aiohttp import web

from db.entities import EXPORT, ExportFormat, ExportStatus
from db.errors import DomainError, Timeout, Unavailable
from db.export_writer import EXTENSIONS, MEDIA_TYPES
from db.exports import visible_export
from db.session import Session
from db.viewer import require_read
from gateway.keys import EXPORTS, POOL, REQUEST_ID
from gateway.route_answers import STATUS, Answer, answered, authenticated, path_id
from schema.errors import INTERNAL_MESSAGE

logger = logging.getLogger("envgraph.http")

PATH = "/v1/exports/{id}/content"
OPERATION = "export_content"  # the operation name of these requests in metrics and logs
_NOT_FOUND = "export not found"


async def export_content(request: web.Request) -> web.StreamResponse:
    """The file of the export of the path."""
    return await answered(request, request.app[POOL], OPERATION, _content)


async def _content(request: web.Request, session: Session) -> web.StreamResponse:
    service = request.app[EXPORTS]
    try:
        viewer = await authenticated(request, session)
        export_id = path_id(request.match_info["id"], EXPORT.type_name, _NOT_FOUND)
        require_read(viewer, EXPORT.scope)  # export:read (export:write includes it)
        row = await visible_export(session, viewer, export_id)
    except (Unavailable, Timeout) as error:
        logger.warning(
            "database unavailable in request %s: %s", request[REQUEST_ID], error.for_log()
        )
        raise Answer(STATUS[error.code], error.code, error.message) from None
    except DomainError as error:
        raise Answer(STATUS.get(error.code, 500), error.code, error.message) from None
    if row is None:
        raise Answer(404, "NOT_FOUND", _NOT_FOUND)
    status = ExportStatus(row["status"])
    if status is ExportStatus.EXPIRED or (
        status is ExportStatus.SUCCEEDED and row["expires_at"] <= service.clock()
    ):
        raise Answer(410, "NOT_FOUND", "the export has expired: its file was deleted")
    if status is not ExportStatus.SUCCEEDED:
        raise Answer(409, "CONFLICT", f"the export has no file: it is {status.value}")
    path = service.directory / row["file_name"]
    if not path.is_file():
        logger.error("export %s: its file %s is missing", export_id, row["file_name"])
        raise Answer(500, "INTERNAL_SERVER_ERROR", INTERNAL_MESSAGE)
    form = ExportFormat(row["format"])
    filename = f"export-{export_id}.{EXTENSIONS[form]}"
    return web.FileResponse(
        path,
        headers={
            "Content-Type": f"{MEDIA_TYPES[form]}; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{filename}"',
            # an export is one user's data: no shared cache keeps it
            "Cache-Control": "private, no-store",
        },
    )


def setup_export_route(app: web.Application) -> None:
    """Serve export files on `app` (GET, and HEAD with it)."""
    app.router.add_get(PATH, export_content)
