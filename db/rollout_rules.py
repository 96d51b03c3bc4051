"""A rollout strategy's rules, checked on write (API.md, "Environment
configuration"), as the feature-flag API the seed describes has them.

A strategy arrives as plain values (`StrategySpec`) and leaves as the JSON
stored on its environment (`normalised`): every rule checked, each failure
BAD_USER_INPUT naming its input path (`strategy.constraints[2].values[0]`),
and the variants' weights settled. Weights are parts of 1000: a FIX weight is
kept, the VARIABLE ones share what the FIX ones leave, as evenly as whole
numbers allow (the first ones get the odd units), so the total is 1000.
"""

from __future__ import annotations

import enum
import json
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

import semver

from db.errors import BadInput
from db.names import check_display_name

TOTAL_WEIGHT = 1000
MAX_CONSTRAINTS = 100
MAX_VALUES = 1000
MAX_VARIANTS = 100
MAX_SEGMENTS = 100
MAX_TEXT = 1000
MAX_PAYLOAD = 65_536
MAX_PARAMETERS = 65_536
# a context field's name (also what a variant's stickiness names)
CONTEXT_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")
# a number as JSON writes it (no "1_000", "inf" or "nan", which float() takes)
NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")


class ConstraintOperator(enum.Enum):
    """How a constraint compares a context field with its values."""

    NOT_IN = "NOT_IN"
    IN = "IN"
    STR_ENDS_WITH = "STR_ENDS_WITH"
    STR_STARTS_WITH = "STR_STARTS_WITH"
    STR_CONTAINS = "STR_CONTAINS"
    NUM_EQ = "NUM_EQ"
    NUM_GT = "NUM_GT"
    NUM_GTE = "NUM_GTE"
    NUM_LT = "NUM_LT"
    NUM_LTE = "NUM_LTE"
    DATE_AFTER = "DATE_AFTER"
    DATE_BEFORE = "DATE_BEFORE"
    SEMVER_EQ = "SEMVER_EQ"
    SEMVER_GT = "SEMVER_GT"
    SEMVER_LT = "SEMVER_LT"


class WeightType(enum.Enum):
    """FIX: the weight is kept; VARIABLE: the variant shares what FIX ones leave."""

    FIX = "FIX"
    VARIABLE = "VARIABLE"


class PayloadType(enum.Enum):
    """What a variant's payload value holds."""

    JSON = "JSON"
    CSV = "CSV"
    STRING = "STRING"
    NUMBER = "NUMBER"


# operators over a list of `values` (any may match); the others take one `value`
LIST_OPERATORS = frozenset({"IN", "NOT_IN", "STR_ENDS_WITH", "STR_STARTS_WITH", "STR_CONTAINS"})


@dataclass(frozen=True, slots=True)
class ConstraintSpec:
    """A constraint as given."""

    context_name: str
    operator: str
    case_insensitive: bool = False
    inverted: bool = False
    values: tuple[str, ...] | None = None
    value: str | None = None


@dataclass(frozen=True, slots=True)
class VariantSpec:
    """A variant as given."""

    name: str
    weight: int | None = None
    weight_type: str = "VARIABLE"
    stickiness: str = "default"
    payload_type: str | None = None
    payload_value: str | None = None


@dataclass(frozen=True, slots=True)
class StrategySpec:
    """A strategy as given (segment ids already turned into uuids)."""

    name: str
    title: str | None = None
    disabled: bool = False
    sort_order: int = 0
    constraints: tuple[ConstraintSpec, ...] = ()
    variants: tuple[VariantSpec, ...] = ()
    parameters: Any = None
    segment_ids: tuple[UUID, ...] = ()


def parse_number(text: str) -> Decimal | None:
    """A number as JSON writes it, exactly (None: not one)."""
    if not NUMBER.fullmatch(text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover (the pattern admits only numbers)
        return None


def parse_date(text: str) -> datetime | None:
    """An ISO 8601 date-time with a time zone (None: not one)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def parse_semver(text: str) -> semver.Version | None:
    """A semantic version (2.0.0: `1.2.3-rc.1+build`), None when not one."""
    try:
        return semver.Version.parse(text)
    except (ValueError, TypeError):
        return None


def _text(value: str, path: str, what: str, longest: int = MAX_TEXT) -> None:
    if len(value) > longest:
        raise BadInput(f"{what} has at most {longest} characters", field=path)


def _context_name(value: str, path: str) -> None:
    if not CONTEXT_NAME.fullmatch(value):
        raise BadInput(
            "a context field's name has 1 to 100 letters, digits, '_', '.' or '-'", field=path
        )


def _single_value_problem(operator: str, value: str) -> str | None:
    if operator.startswith("NUM_") and parse_number(value) is None:
        return f"{operator} compares numbers: this is not one (e.g. 42, -1.5)"
    if operator.startswith("DATE_") and parse_date(value) is None:
        return (
            f"{operator} compares date-times: this is not an ISO 8601 date-time with a time "
            "zone (e.g. 2025-05-01T12:00:00Z)"
        )
    if operator.startswith("SEMVER_") and parse_semver(value) is None:
        return f"{operator} compares semantic versions: this is not one (e.g. 1.2.0-rc.1)"
    return None


def _single_value(spec: ConstraintSpec, path: str) -> tuple[str, str]:
    """The one value of a NUM_, DATE_ or SEMVER_ constraint and its input path:
    `value`, or `values` holding exactly one (as some clients send it)."""
    if spec.values and spec.value is not None:
        raise BadInput(f"{spec.operator} takes one value: `value` or `values`, not both",
                       field=f"{path}.values")  # fmt: skip
    if spec.values:
        if len(spec.values) != 1:
            raise BadInput(f"{spec.operator} takes one value", field=f"{path}.values")
        return spec.values[0], f"{path}.values[0]"
    if spec.value is None:
        raise BadInput(f"{spec.operator} needs a `value`", field=f"{path}.value")
    return spec.value, f"{path}.value"


def _constraint(spec: ConstraintSpec, path: str) -> dict[str, Any]:
    _context_name(spec.context_name, f"{path}.contextName")
    operator = spec.operator
    if operator not in ConstraintOperator.__members__:
        raise BadInput(f"unknown operator {operator}", field=f"{path}.operator")
    if operator in LIST_OPERATORS:
        if spec.value is not None:
            raise BadInput(f"{operator} takes `values`, not `value`", field=f"{path}.value")
        values = spec.values or ()
        if not values:
            raise BadInput(f"{operator} needs at least one value", field=f"{path}.values")
        if len(values) > MAX_VALUES:
            raise BadInput(f"at most {MAX_VALUES} values", field=f"{path}.values")
        for i, value in enumerate(values):
            _text(value, f"{path}.values[{i}]", "a value")
        single = None
    else:
        single, where = _single_value(spec, path)
        if spec.case_insensitive:
            raise BadInput(
                "caseInsensitive applies to the STR_ and IN operators only",
                field=f"{path}.caseInsensitive",
            )
        _text(single, where, "a value")
        problem = _single_value_problem(operator, single)
        if problem is not None:
            raise BadInput(problem, field=where)
        values = ()
    return {
        "contextName": spec.context_name,
        "operator": operator,
        "caseInsensitive": spec.case_insensitive,
        "inverted": spec.inverted,
        "values": list(values),
        "value": single,
    }


def _payload(spec: VariantSpec, path: str) -> dict[str, str] | None:
    if spec.payload_type is None:
        return None
    value = spec.payload_value or ""
    if spec.payload_type not in PayloadType.__members__:
        raise BadInput(f"unknown payload type {spec.payload_type}", field=f"{path}.type")
    _text(value, f"{path}.value", "a payload", MAX_PAYLOAD)
    if spec.payload_type == "NUMBER" and parse_number(value) is None:
        raise BadInput("a NUMBER payload holds a number", field=f"{path}.value")
    if spec.payload_type == "JSON":
        try:
            json.loads(value)
        except ValueError:
            raise BadInput("a JSON payload holds JSON text", field=f"{path}.value") from None
    return {"type": spec.payload_type, "value": value}


def settled_weights(variants: list[tuple[str, int | None]]) -> list[int]:
    """The weights of variants given as (weight type, weight): FIX kept, VARIABLE
    sharing the rest of 1000, the first of them taking the odd units."""
    fixed = sum(weight or 0 for kind, weight in variants if kind == "FIX")
    shares = sum(1 for kind, _ in variants if kind != "FIX")
    left = TOTAL_WEIGHT - fixed
    even, odd = divmod(left, shares) if shares else (0, 0)
    weights, nth = [], 0
    for kind, weight in variants:
        if kind == "FIX":
            weights.append(weight or 0)
        else:
            weights.append(even + (1 if nth < odd else 0))
            nth += 1
    return weights


def _variants(specs: tuple[VariantSpec, ...], path: str) -> list[dict[str, Any]]:
    if len(specs) > MAX_VARIANTS:
        raise BadInput(f"at most {MAX_VARIANTS} variants", field=path)
    seen: set[str] = set()
    for i, spec in enumerate(specs):
        here = f"{path}[{i}]"
        check_display_name(spec.name, f"{here}.name", 100)
        if spec.name in seen:
            raise BadInput(f"two variants are called {spec.name}", field=f"{here}.name")
        seen.add(spec.name)
        if spec.weight_type not in WeightType.__members__:
            raise BadInput(f"unknown weight type {spec.weight_type}", field=f"{here}.weightType")
        if spec.weight is not None and not 0 <= spec.weight <= TOTAL_WEIGHT:
            raise BadInput(f"a weight is from 0 to {TOTAL_WEIGHT}", field=f"{here}.weight")
        if spec.weight_type == "FIX" and spec.weight is None:
            raise BadInput("a FIX variant needs its weight", field=f"{here}.weight")
        if spec.stickiness != "default":
            _context_name(spec.stickiness, f"{here}.stickiness")
    fixed = sum(s.weight or 0 for s in specs if s.weight_type == "FIX")
    if fixed > TOTAL_WEIGHT:
        raise BadInput(f"the FIX weights total {fixed}, more than {TOTAL_WEIGHT}", field=path)
    if specs and fixed != TOTAL_WEIGHT and all(s.weight_type == "FIX" for s in specs):
        raise BadInput(
            f"the FIX weights total {fixed}: with no VARIABLE variant to take the rest they "
            f"must total {TOTAL_WEIGHT}",
            field=path,
        )
    weights = settled_weights([(s.weight_type, s.weight) for s in specs])
    return [
        {
            "name": spec.name,
            "weight": weight,
            "weightType": spec.weight_type,
            "stickiness": spec.stickiness,
            "payload": _payload(spec, f"{path}[{i}].payload"),
        }
        for i, (spec, weight) in enumerate(zip(specs, weights, strict=True))
    ]


def _parameters(value: Any, path: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadInput("parameters are a JSON object", field=path)
    if len(json.dumps(value)) > MAX_PARAMETERS:
        raise BadInput(f"parameters take at most {MAX_PARAMETERS} bytes of JSON", field=path)
    return value


def normalised(spec: StrategySpec, path: str = "strategy") -> dict[str, Any]:
    """The stored form of a strategy, every rule checked (BadInput naming the path)."""
    check_display_name(spec.name, f"{path}.name")
    check_display_name(spec.title, f"{path}.title")
    if not -(2**31) <= spec.sort_order < 2**31:
        raise BadInput("sortOrder is a 32-bit integer", field=f"{path}.sortOrder")
    if len(spec.constraints) > MAX_CONSTRAINTS:
        raise BadInput(f"at most {MAX_CONSTRAINTS} constraints", field=f"{path}.constraints")
    if len(spec.segment_ids) > MAX_SEGMENTS:
        raise BadInput(f"at most {MAX_SEGMENTS} segments", field=f"{path}.segmentIds")
    return {
        "name": spec.name,
        "title": spec.title,
        "disabled": spec.disabled,
        "sortOrder": spec.sort_order,
        "constraints": [
            _constraint(c, f"{path}.constraints[{i}]") for i, c in enumerate(spec.constraints)
        ],
        "variants": _variants(spec.variants, f"{path}.variants"),
        "parameters": _parameters(spec.parameters, f"{path}.parameters"),
        "segmentIds": [str(s) for s in dict.fromkeys(spec.segment_ids)],
    }
