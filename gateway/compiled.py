"""The compiled executor: a read query answered by ONE statement that builds the
response's `data` JSON in PostgreSQL, sent as it comes (no re-encoding); and a
mutation that writes in one statement (a `WriteField`) answered by that same
statement, its payload's JSON built from the written row.

It runs after authentication and limits, for an authenticated viewer. A read
is answered only when it succeeds: anything else (not a query, not valid, not
compilable, an argument a resolver would refuse, a lookup that finds nothing,
a field the resolver path would fail) falls back to the resolver path, which
then gives its own answer, errors included. A write's refusal by its checks or
a constraint is answered from its statement, as the error the resolver raises;
it falls back only when it certainly wrote nothing (its statement failed in
PostgreSQL). `GATEWAY_COMPILED_READS` switches both off.
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from collections.abc import Callable, Hashable
from functools import lru_cache
from typing import Any, ParamSpec, TypeVar, cast
from uuid import UUID

import asyncpg
import orjson
from aiohttp import web
from graphql import DocumentNode, OperationType
from strawberry.http import GraphQLRequestData
from strawberry.types import ExecutionResult

from db.errors import DomainError, Timeout, Unavailable
from db.json_reads import FALLBACK_MARK, read_statement, write_statement
from db.plans import ReadPlan
from db.viewer import Viewer
from gateway import off_loop
from gateway.keys import COMPILED_ANSWER, EXECUTOR, METRICS, SETTINGS
from schema.context import Context
from schema.documents import cached, operation, parsed
from schema.errors import field_failure, refusal
from schema.lookup_variables import LookupVariable, filled, lookup_variables, templated
from schema.planner import (
    PlannedWrite,
    VariablesRefused,
    plan_read,
    plan_write_shape,
    shape_variables,
    write_plan,
)
from schema.schema import GatewaySchema
from schema.validation import validation_errors

logger = logging.getLogger("envgraph.compiled")

MAX_PLANS = 512
_NO_PLAN = object()
P = ParamSpec("P")
T = TypeVar("T")


class RawData:
    """`data` already encoded as JSON text, spliced into the body as it is."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


class _Kept:
    """What is worked out once per document, least recently used first out (at most
    MAX_PLANS); kept only while its document is (a one-off text's is not)."""

    def __init__(self) -> None:
        self._items: OrderedDict[Hashable, Any] = OrderedDict()

    def get(self, key: Hashable) -> Any:
        """The value kept for `key`, or _NO_PLAN."""
        found = self._items.get(key, _NO_PLAN)
        if found is not _NO_PLAN:
            self._items.move_to_end(key)
        return found

    def keep(self, query: str, key: Hashable, value: Any) -> None:
        if cached(query):
            self._items[key] = value
            if len(self._items) > MAX_PLANS:
                self._items.popitem(last=False)


async def _unless_refused(
    query: str | None, function: Callable[P, T | None], *args: P.args, **kwargs: P.kwargs
) -> T | None:
    """`function(...)` (off the loop for a large document), or None when it raises
    the domain error a resolver raises for the same input: the resolver path
    then answers, with that error."""
    try:
        return await off_loop.step(query, function, *args, **kwargs)
    except DomainError as error:
        logger.debug("not compiled: %s %s", error.code, error.message)
        return None


class Plans:
    """Plans by document, operation, variables and token scopes (what a plan depends
    on; visibility is injected per viewer when the SQL is built), least recently
    used first out."""

    def __init__(self, schema: GatewaySchema) -> None:
        self.schema = schema
        self._plans = _Kept()
        self._lookups = _Kept()
        self._shape_variables = _Kept()
        # a plan's statement for a viewer, built once while it is asked for:
        # building it costs more than running a small one (plans and viewers are
        # frozen values, so they key a cache)
        self._statements = lru_cache(maxsize=MAX_PLANS)(read_statement)

    def statement(self, plan: ReadPlan, viewer: Viewer) -> tuple[str, list[Any]]:
        """The plan's statement for this viewer (thread-safe: lru_cache is)."""
        try:
            return self._statements(plan, viewer)
        except TypeError:  # a plan holding an unhashable value: built each time
            return read_statement(plan, viewer)

    def valid(self, query: str) -> DocumentNode | None:
        """The query's document, if it is valid: the request's one validation, with
        the rules strawberry's step uses (the view has validated already; this
        validates only when called without it)."""
        document = parsed(query)
        if document is None:
            return None
        schema = self.schema
        errors = validation_errors(schema._schema, query, document, schema.validation_rules)
        if errors:
            logger.debug("not valid: %s", errors[0].message)
            return None
        return document

    def lookups(
        self, query: str, operation_name: str | None, document: DocumentNode
    ) -> tuple[LookupVariable, ...]:
        """The operation's lookup variables (schema/lookup_variables.py), found once
        per document."""
        key = (query, operation_name)
        found: tuple[LookupVariable, ...] = self._lookups.get(key)
        if found is _NO_PLAN:
            found = lookup_variables(self.schema._schema, document, operation_name)
            self._lookups.keep(query, key, found)
        return found

    async def plan(
        self,
        request_data: GraphQLRequestData,
        context: Context,
        made: Callable[[], None] | None = None,
    ) -> tuple[ReadPlan | PlannedWrite, dict[UUID, UUID]] | None:
        """The request's plan and the rows its lookups' stand-ins stand for, or None:
        the resolver path answers. `made` is called when a plan is made (not found)."""
        query, viewer = request_data.query, context.authenticated
        document = self.valid(query) if query else None
        if query is None or document is None:
            return None
        variables = request_data.variables or {}
        if is_mutation(document, request_data.operation_name):
            write = await self.write(
                query, document, request_data.operation_name, variables, context
            )
            return None if write is None else (write, {})
        lookups = self.lookups(query, request_data.operation_name, document)
        shared = templated(variables, lookups) if lookups else None
        if lookups and shared is None:
            return None  # a lookup's value the resolver refuses: it answers
        keyed = variables if shared is None else shared.keyed
        key = (
            query,
            request_data.operation_name,
            json.dumps(keyed, sort_keys=True, default=str),
            viewer.scopes,
            context.default_page_size,
            context.max_page_size,
        )
        found = self._plans.get(key)
        if found is _NO_PLAN:
            if made is not None:
                made()
            found = await _unless_refused(
                query,
                plan_read,
                self.schema,
                document,
                request_data.operation_name,
                variables if shared is None else shared.planned,
                viewer,
                page_sizes=(context.default_page_size, context.max_page_size),
            )
            self._plans.keep(query, key, found)
        if found is None:
            return None
        return cast(ReadPlan, found), ({} if shared is None else shared.rows)

    async def write(
        self,
        query: str,
        document: DocumentNode,
        operation_name: str | None,
        variables: dict[str, Any],
        context: Context,
    ) -> PlannedWrite | None:
        """A mutation's write plan, or None. Its shape (the root field, the payload's
        plan) is made once per document, scopes and the values of the variables
        outside the mutation's input; the input is converted and checked for each
        request, as the resolver does (a createSegment spent a fifth of its time
        planning before)."""
        viewer = context.authenticated
        document_key = (query, operation_name)
        shaped_by: frozenset[str] = self._shape_variables.get(document_key)
        if shaped_by is _NO_PLAN:
            shaped_by = shape_variables(document, operation_name)
            self._shape_variables.keep(query, document_key, shaped_by)
        key = (
            "write",
            query,
            operation_name,
            json.dumps({n: variables.get(n) for n in sorted(shaped_by)}, default=str),
            viewer.scopes,
        )
        shape = self._plans.get(key)
        if shape is _NO_PLAN:
            try:
                shape = await _unless_refused(
                    query, plan_write_shape, self.schema, document, operation_name, variables,
                    viewer, page_sizes=(context.default_page_size, context.max_page_size),
                )  # fmt: skip
            except VariablesRefused:  # this request's values, not the document's
                return None
            self._plans.keep(query, key, shape)
        if shape is None:
            return None
        return await _unless_refused(
            query, write_plan, shape, self.schema, document, operation_name, variables,
            viewer=viewer,
        )  # fmt: skip


def is_mutation(document: DocumentNode, operation_name: str | None) -> bool:
    """Whether the operation run is a mutation."""
    chosen = operation(document, operation_name)
    return chosen is not None and chosen.operation is OperationType.MUTATION


async def compiled_result(
    plans: Plans,
    request: web.Request,
    context: Context,
    request_data: GraphQLRequestData,
) -> ExecutionResult | None:
    """The compiled answer to a request, or None when the resolver path answers it
    (asked once: the view asks again of a request the lean path passed on)."""
    if COMPILED_ANSWER in request:
        return request[COMPILED_ANSWER]
    executor = "resolver"
    try:
        if request.app[SETTINGS].compiled_reads and context.viewer is not None:
            try:
                made = request.app[METRICS].plans_made.inc
                text = await _run(plans, request_data, context, made)
            except Timeout as error:  # answered as the resolver path does: data null
                executor = "compiled"
                return refusal(error.message, error.code, context.request_id)
            except _Refused as refused:
                executor = "compiled"
                return refused.result
            if text is not None:
                executor = "compiled"
                return ExecutionResult(data=cast(Any, RawData(text)), errors=None)
        return None
    finally:
        request[EXECUTOR] = executor
        metrics = request.app[METRICS]
        metrics.count(metrics.executors, executor)


async def _run(
    plans: Plans,
    request_data: GraphQLRequestData,
    context: Context,
    made: Callable[[], None] | None = None,
) -> str | None:
    planned = await plans.plan(request_data, context, made)
    if planned is None:
        logger.debug("request %s: no plan", context.request_id)
        return None
    plan, rows = planned
    if isinstance(plan, PlannedWrite):
        return await _write(plan, request_data, context)
    # checked as the SQL is built: search terms, NUL, the binder's parameter budget
    statement = await _unless_refused(
        request_data.query, plans.statement, plan, context.authenticated
    )
    if statement is None:
        return None
    sql, values = statement
    try:
        row = await context.session.fetchrow(sql, *filled(values, rows))
    except (Unavailable, Timeout):
        raise  # the resolver path would only wait as long again (503 or TIMEOUT)
    except Exception as error:  # the resolver path answers, errors included
        marked = FALLBACK_MARK in str(error) or "out of range" in str(error)
        log = logger.debug if marked else logger.warning
        log("request %s: compiled read failed (%r): %s", context.request_id, error, sql)
        return None
    assert row is not None, "an aggregate-only statement returns one row"
    if row[1]:  # a single lookup found nothing: the resolver path says NOT_FOUND
        logger.debug("request %s: a lookup found nothing", context.request_id)
        return None
    return str(row[0])


class _Refused(Exception):
    """A write's check or constraint refused it in its statement: the answer."""

    def __init__(self, result: ExecutionResult) -> None:
        super().__init__()
        self.result = result


async def _write(
    planned: PlannedWrite, request_data: GraphQLRequestData, context: Context
) -> str | None:
    """The payload of the write, or None: its statement failed in PostgreSQL (so
    nothing was written) and the resolver path writes, or gives the error. Raises
    `_Refused` with the answer when a check or constraint refused the write: the
    error the resolver would raise, from the same statement."""
    plan = planned.plan
    statement = await _unless_refused(
        request_data.query, write_statement, plan, context.authenticated
    )
    if statement is None:
        return None
    sql, values = statement
    try:
        with plan.write.constraints():
            row = await context.session.fetchrow(sql, *values)
        if row is None or row[1]:  # nothing written: the checks say why
            plan.write.errors(row)
            return None  # (not expected: they always do)
    except (Unavailable, Timeout):
        raise  # written or not is not known (or not): never a second write
    except DomainError as error:
        raise _Refused(field_failure(error, planned.nodes, plan.key, context.request_id)) from None
    except asyncpg.PostgresError as error:
        # rolled back whole (a payload field the resolver path fails): it answers
        logger.debug("request %s: compiled write failed (%r)", context.request_id, error)
        return None
    return str(row[0])


def encode_response(data: object) -> bytes:
    """The JSON body, compact (orjson: several times faster than json.dumps on
    wide answers), with compiled `data` spliced in as it is."""
    if isinstance(data, list):
        return b"[" + b",".join(encode_response(item) for item in data) + b"]"
    raw = data.get("data") if isinstance(data, dict) and len(data) == 1 else None
    if isinstance(raw, RawData):
        return b'{"data":' + raw.text.encode() + b"}"
    return orjson.dumps(data)
