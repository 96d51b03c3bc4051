"""`POST /v1/environments/{id}/events`: bulk ingestion of an NDJSON or CSV body,
streamed (db/ingest.py does the writing, gateway/event_streams.py the reading).

The same bearer token as `/graphql`, the scope `event:write` and a writer's
role. Answers `{"accepted": N, "duplicates": M}`, or `{"errors": [...]}` with
each error's `code` and `requestId` (bad lines also carry `line`); on any
error nothing is written.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import ClientError, web

from db.errors import DomainError, Timeout, Unavailable
from db.ingest import Refused, Staging, check_writable
from db.session import Session
from gateway.event_streams import BadStream, Format, TooLarge, read_upload
from gateway.keys import REQUEST_ID, SESSION_POOL, SETTINGS
from gateway.replicas import written_position
from gateway.route_answers import STATUS, Answer, answered, authenticated, path_id
from schema.errors import INTERNAL_MESSAGE

logger = logging.getLogger("envgraph.http")

PATH = "/v1/environments/{id}/events"
OPERATION = "ingest"  # the operation name of these requests in metrics and logs
_CHUNK = 64 * 1024
_FORMATS = {
    "application/x-ndjson": Format.NDJSON,
    "application/ndjson": Format.NDJSON,
    "application/jsonl": Format.NDJSON,
    "text/csv": Format.CSV,
}


async def ingest_events(request: web.Request) -> web.StreamResponse:
    """Ingest the body's events into the environment of the path."""
    # the staging table lives across transactions: a session of its own
    return await answered(request, request.app[SESSION_POOL], OPERATION, _ingest)


async def _ingest(request: web.Request, session: Session) -> web.Response:
    limit = request.app[SETTINGS].ingest_max_bytes
    try:
        viewer = await authenticated(request, session)
        environment_id = path_id(request.match_info["id"], "Environment", "environment not found")
        form = _FORMATS.get(request.content_type)
        if form is None:
            raise Answer(
                415,
                "BAD_USER_INPUT",
                f"the body must be one of {', '.join(_FORMATS)}, not {request.content_type!r}",
            )
        if request.content_length is not None and request.content_length > limit:
            raise Answer(413, "BAD_USER_INPUT", str(TooLarge(limit)))
        # before reading a byte of the body: a refused upload costs nothing
        await check_writable(session, viewer, environment_id)
        # aiohttp has already undone a `Content-Encoding: gzip` (a bounded step at
        # a time), so the limit counts the decompressed stream
        async with (
            session.connection() as conn,
            Staging(conn, on_copy=session.count_statement) as staging,
        ):
            await read_upload(staging, request.content.iter_chunked(_CHUNK), form, limit=limit)
            ingested = await staging.commit(environment_id, viewer)
        # read-your-writes with replicas, as after a mutation (gateway/replicas.py)
        headers = await written_position(request, session)
    except Refused as refused:
        lines = [
            {"line": e.line, "message": e.message, "code": "BAD_USER_INPUT"} for e in refused.errors
        ]
        raise Answer(400, "BAD_USER_INPUT", refused.message, lines) from None
    except TooLarge as error:
        raise Answer(413, "BAD_USER_INPUT", str(error)) from None
    except BadStream as error:
        raise Answer(400, "BAD_USER_INPUT", str(error)) from None
    except (Unavailable, Timeout) as error:
        logger.warning(
            "database unavailable in request %s: %s", request[REQUEST_ID], error.for_log()
        )
        raise Answer(STATUS[error.code], error.code, error.message) from None
    except DomainError as error:
        raise Answer(STATUS.get(error.code, 500), error.code, error.message) from None
    except asyncio.CancelledError:
        # the client went away (aiohttp cancels its handler): the transaction was
        # never reached or is rolled back; nothing was written
        logger.info("upload %s interrupted: the client went away", request[REQUEST_ID])
        raise
    except (ClientError, ConnectionError) as error:
        # the client went away mid-upload: the transaction was never reached
        logger.info("upload %s interrupted: %s", request[REQUEST_ID], error)
        raise Answer(400, "BAD_USER_INPUT", "the upload was interrupted") from None
    except Answer:
        raise
    except Exception:
        logger.exception("internal error in request %s", request[REQUEST_ID])
        raise Answer(500, "INTERNAL_SERVER_ERROR", INTERNAL_MESSAGE) from None
    return web.json_response(
        {"accepted": ingested.accepted, "duplicates": ingested.duplicates}, headers=headers
    )


def setup_ingest_route(app: web.Application) -> None:
    """Serve the bulk route on `app`."""
    app.router.add_post(PATH, ingest_events)
