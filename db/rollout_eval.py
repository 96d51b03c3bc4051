"""`evaluateStrategy`: a stored strategy (db/rollout_rules.py) applied to a
context, as the feature-flag SDKs apply theirs.

- A context field is looked up at the top of the context, then in its
  `properties` object. Strings compare as they are; numbers and booleans as
  JSON writes them (`3`, `2.5`, `true`); objects, arrays and null are missing.
- IN / NOT_IN: equal to one of `values` (NOT_IN of a missing field holds).
  STR_STARTS_WITH / STR_ENDS_WITH / STR_CONTAINS: any of `values`. With
  `caseInsensitive`, both sides are compared case-folded.
- NUM_*: exact decimal comparison; the field is a JSON number or a numeric
  string. DATE_AFTER / DATE_BEFORE: strictly after / before, the field an ISO
  8601 date-time (compared as instants across time zones; one without a zone
  is UTC); `currentTime` missing is now. SEMVER_*: semantic-version precedence
  (2.0.0: `1.0.0-rc.1 < 1.0.0`), by the `semver` library.
- A missing or unparsable field does not match; `inverted` then negates the
  result. All constraints must hold, and the strategy not be disabled.
- The variant: MurmurHash3 (x86, 32-bit, seed 86028157) of
  `"<groupId>:<stickiness value>"`, modulo the total weight, plus one, picks
  the first variant whose running weight reaches it: the bucketing of the
  Unleash SDKs, so the same context gets the same variant in every process,
  on every machine. groupId is `parameters.groupId` (a string) or the
  strategy's name. The stickiness value is the first variant's `stickiness`
  context field; `default` means `userId`, then `sessionId`; when the field is
  missing, the whole context as canonical JSON (sorted keys) stands in.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from db.rollout_rules import parse_date, parse_number, parse_semver

VARIANT_SEED = 86028157
_MASK = 0xFFFFFFFF


def murmur3_32(data: bytes, seed: int = 0) -> int:
    """MurmurHash3 x86 32-bit of `data` (unsigned)."""
    c1, c2 = 0xCC9E2D51, 0x1B873593
    h = seed & _MASK
    whole = len(data) - len(data) % 4
    for i in range(0, whole, 4):
        k = int.from_bytes(data[i : i + 4], "little")
        k = (k * c1) & _MASK
        k = ((k << 15) | (k >> 17)) & _MASK
        k = (k * c2) & _MASK
        h ^= k
        h = ((h << 13) | (h >> 19)) & _MASK
        h = (h * 5 + 0xE6546B64) & _MASK
    tail = data[whole:]
    if tail:
        k = int.from_bytes(tail, "little")
        k = (k * c1) & _MASK
        k = ((k << 15) | (k >> 17)) & _MASK
        k = (k * c2) & _MASK
        h ^= k
    h ^= len(data)
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & _MASK
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & _MASK
    h ^= h >> 16
    return h


def normalized_value(identifier: str, group: str, modulus: int, seed: int = 0) -> int:
    """1..modulus, from the hash of `group:identifier` (the SDKs' normalizedValue)."""
    return murmur3_32(f"{group}:{identifier}".encode(), seed) % modulus + 1


def _field(context: dict[str, Any], name: str) -> Any:
    if name in context:
        return context[name]
    properties = context.get("properties")
    if isinstance(properties, dict):
        return properties.get(name)
    return None


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    return None


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return parse_number(json.dumps(value))
    return parse_number(value) if isinstance(value, str) else None


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    moment = parse_date(value)
    if moment is not None:
        return moment
    try:
        naive = datetime.fromisoformat(value)
    except ValueError:
        return None
    return naive.replace(tzinfo=UTC)


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "EQ": lambda a, b: bool(a == b),
    "GT": lambda a, b: bool(a > b),
    "GTE": lambda a, b: bool(a >= b),
    "LT": lambda a, b: bool(a < b),
    "LTE": lambda a, b: bool(a <= b),
    "AFTER": lambda a, b: bool(a > b),
    "BEFORE": lambda a, b: bool(a < b),
}


def _holds(constraint: dict[str, Any], context: dict[str, Any], now: datetime) -> bool:
    """Whether the constraint holds before `inverted` is applied."""
    operator: str = constraint["operator"]
    name = constraint["contextName"]
    raw = _field(context, name)
    if raw is None and name == "currentTime" and operator.startswith("DATE_"):
        raw = now.isoformat()
    family, _, comparison = operator.partition("_")
    if family in ("IN", "NOT") or family == "STR":
        text = _text(raw)
        if text is None:
            return operator == "NOT_IN"
        values = constraint["values"]
        if constraint["caseInsensitive"]:
            text, values = text.casefold(), [v.casefold() for v in values]
        if operator == "IN":
            return text in values
        if operator == "NOT_IN":
            return text not in values
        test = {"ENDS_WITH": str.endswith, "STARTS_WITH": str.startswith}.get(
            comparison, str.__contains__
        )
        return any(test(text, v) for v in values)
    parse: Callable[[Any], Any] = {"NUM": _number, "DATE": _moment, "SEMVER": parse_semver}[family]
    left = parse(raw)
    right = parse(constraint["value"])
    if left is None or right is None:
        return False
    result: bool = _COMPARE[comparison](left, right)
    return result


def holds(constraint: dict[str, Any], context: dict[str, Any], now: datetime) -> bool:
    """Whether a stored constraint holds for `context` (`inverted` applied)."""
    return _holds(constraint, context, now) is not bool(constraint["inverted"])


def stickiness_value(stickiness: str, context: dict[str, Any]) -> str:
    """What the variant's bucket is hashed from (see the module's docstring)."""
    names = ("userId", "sessionId") if stickiness == "default" else (stickiness,)
    for name in names:
        text = _text(_field(context, name))
        if text is not None:
            return text
    return json.dumps(context, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def pick_variant(strategy: dict[str, Any], context: dict[str, Any]) -> dict[str, Any] | None:
    """The variant `context` gets, the same every time (None: no variants)."""
    variants: list[dict[str, Any]] = strategy["variants"]
    total = sum(v["weight"] for v in variants)
    if total <= 0:
        return None
    group = strategy["parameters"].get("groupId")
    group = group if isinstance(group, str) else strategy["name"]
    seed = stickiness_value(variants[0]["stickiness"], context)
    target = normalized_value(seed, group, total, VARIANT_SEED)
    running = 0
    for variant in variants:
        if variant["weight"] == 0:
            continue
        running += variant["weight"]
        if running >= target:
            return variant
    return None  # pragma: no cover (the weights add up to the total)


@dataclass(frozen=True, slots=True)
class Evaluation:
    """What a strategy says of one context."""

    enabled: bool
    variant: dict[str, Any] | None
    matched: list[dict[str, Any]]


def evaluate(
    strategy: dict[str, Any] | None, context: dict[str, Any], now: datetime | None = None
) -> Evaluation:
    """Apply a stored strategy (None: none set, which enables nothing) to `context`."""
    if strategy is None:
        return Evaluation(False, None, [])
    moment = now or datetime.now(UTC)
    matched = [c for c in strategy["constraints"] if holds(c, context, moment)]
    enabled = not strategy["disabled"] and len(matched) == len(strategy["constraints"])
    return Evaluation(enabled, pick_variant(strategy, context) if enabled else None, matched)
