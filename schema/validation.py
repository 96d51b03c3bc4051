"""Validation of a document, once per request: the view validates before either
executor runs (off the event loop when the document is large), and the compiled
path and strawberry's validation step (schema/schema.py) both read that result
here instead of validating again.

Results are remembered two ways. The request's own result is held for the
request (keyed by its document object, so the answer is for that very tree),
whatever the size; results for small texts are also kept across requests,
keyed by text and rules, for texts whose documents the shared cache keeps
(schema/documents.py). The
shared caches are touched on the event loop's thread only; the worker threads
run `validate`, which reads nothing but the immutable schema and document.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from contextvars import ContextVar

from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema, Visitor
from graphql.validation.rules import overlapping_fields_can_be_merged
from strawberry.schema.schema import validate_document

from db.errors import TooComplex
from schema.documents import cached

Rules = tuple[type[ASTValidationRule], ...]

# graphql-core's rule that fields can merge compares the fields of one response
# name pair by pair, fragments' included, metering that work and aborting the
# validation past a budget. Its default (500,000 units) is up to a second of CPU
# here. A query that repeats no response name spends nothing (the full
# introspection query, the test corpus); 10,000 units are some 10 ms. Set for
# the process: both executors validate through this rule.
VALIDATION_BUDGET = 10_000
overlapping_fields_can_be_merged.MAX_COMPLEXITY_BUDGET = VALIDATION_BUDGET
# what graphql-core says when the budget runs out (or its recursion would)
_ABORTED = "Validation aborted."
_TOO_COMPLEX = (
    "the query repeats fields of one name too often to be checked "
    f"(comparing them took over {VALIDATION_BUDGET:,} steps)"
)

MAX_VALIDATIONS = 256
_shared: OrderedDict[tuple[str, Rules], list[GraphQLError]] = OrderedDict()
# (document, rules, errors) of the request being answered
_request: ContextVar[tuple[DocumentNode, Rules, list[GraphQLError]] | None] = ContextVar(
    "request_validation", default=None
)


# Every graphql-core visitor caches its bound methods per node kind on itself (a
# reference cycle through each visitor), and a validation makes one per rule and
# more per operation and fragment: thousands of objects per large document,
# the rules' caches and the document among them, that only a garbage collection
# freed, and collections stop every thread of the process (tests/gateway/
# test_noisy_neighbour.py). The visitors a validation makes are recorded, per
# thread, and their caches emptied once it is done: its garbage is then freed
# as soon as it is dropped.
_made = threading.local()
_visitor_init = Visitor.__init__


def _recording_init(self: Visitor) -> None:
    _visitor_init(self)
    made: list[Visitor] | None = getattr(_made, "visitors", None)
    if made is not None:
        made.append(self)


Visitor.__init__ = _recording_init  # type: ignore[method-assign]


def validate(schema: GraphQLSchema, document: DocumentNode, rules: Rules) -> list[GraphQLError]:
    """The document's errors under these rules (strawberry's own two added, as its
    step adds them). Pure: safe in a worker thread."""
    made: list[Visitor] = []
    _made.visitors = made
    try:
        errors = validate_document(schema, document, rules)
    finally:
        _made.visitors = None
        for visitor in made:
            visitor.enter_leave_map.clear()
    return [
        GraphQLError(_TOO_COMPLEX, original_error=TooComplex(_TOO_COMPLEX))
        if e.message == _ABORTED
        else e
        for e in errors
    ]


def remembered(
    query: str | None, document: DocumentNode, rules: Rules
) -> list[GraphQLError] | None:
    """The errors found before for this document (None: not validated yet)."""
    held = _request.get()
    if held is not None and held[0] is document and held[1] == rules:
        return held[2]
    key = (query or "", rules)
    errors = _shared.get(key)
    if errors is not None:
        _shared.move_to_end(key)
    return errors


def remember(
    query: str | None, document: DocumentNode, rules: Rules, errors: list[GraphQLError]
) -> None:
    """Hold the errors for the request, and for later ones when the text is small."""
    _request.set((document, rules, errors))
    # kept as long as the document is (errors hold its nodes)
    if query and cached(query):
        _shared[query, rules] = errors
        if len(_shared) > MAX_VALIDATIONS:
            _shared.popitem(last=False)


def validation_errors(
    schema: GraphQLSchema, query: str | None, document: DocumentNode, rules: Rules
) -> list[GraphQLError]:
    """The errors, validating here (on the caller's thread) only if not done yet."""
    errors = remembered(query, document, rules)
    if errors is None:
        errors = validate(schema, document, rules)
        remember(query, document, rules, errors)
    return errors


def forget_request_validation() -> None:
    """Let go of the request's result (its answer has been sent)."""
    _request.set(None)
