"""Rollout strategies without a database: the rules checked on write
(db/rollout_rules.py) and each operator's semantics, the weights and the
bucketing of `evaluateStrategy` (db/rollout_eval.py)."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from db.errors import BadInput
from db.rollout_eval import evaluate, holds, murmur3_32, normalized_value, pick_variant
from db.rollout_rules import ConstraintSpec, StrategySpec, VariantSpec, normalised

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def _constraint(operator: str, *values: str, **options: Any) -> dict[str, Any]:
    """A constraint in its stored form, checked as a write checks it."""
    single = operator.split("_", maxsplit=1)[0] in ("NUM", "DATE", "SEMVER")
    spec = ConstraintSpec(
        context_name=options.pop("field", "f"),
        operator=operator,
        values=None if single else values,
        value=values[0] if single else None,
        **options,
    )
    stored = normalised(StrategySpec(name="s", constraints=(spec,)))
    constraint: dict[str, Any] = stored["constraints"][0]
    return constraint


# (operator, constraint values, a context value that matches, one that does not)
CASES = [
    ("IN", ("eu", "us"), "us", "asia"),
    ("NOT_IN", ("eu", "us"), "asia", "eu"),
    ("STR_STARTS_WITH", ("beta-", "rc-"), "rc-7", "7-rc-"),
    ("STR_ENDS_WITH", ("@acme.com",), "ada@acme.com", "ada@acme.com.evil"),
    ("STR_CONTAINS", ("canary",), "eu-canary-2", "eu-stable"),
    ("NUM_EQ", ("2.50",), 2.5, 2.51),
    ("NUM_GT", ("10",), "10.5", 10),
    ("NUM_GTE", ("10",), 10, 9.999),
    ("NUM_LT", ("-1",), -2, -1),
    ("NUM_LTE", ("1e3",), 1000, 1000.5),
    ("DATE_AFTER", ("2025-05-01T00:00:00Z",), "2025-05-01T00:00:01Z", "2025-05-01T00:00:00Z"),
    ("DATE_BEFORE", ("2025-05-01T00:00:00Z",), "2025-04-30T23:59:59Z", "2025-05-01T00:00:00Z"),
    ("SEMVER_EQ", ("1.2.3",), "1.2.3", "1.2.3-rc.1"),
    ("SEMVER_GT", ("1.2.3",), "1.10.0", "1.2.3-rc.9"),
    ("SEMVER_LT", ("2.0.0",), "2.0.0-rc.1", "2.0.0"),
]


@pytest.mark.parametrize(("operator", "values", "yes", "no"), CASES, ids=[c[0] for c in CASES])
def test_every_operator_matches_and_not_and_inverted(
    operator: str, values: tuple[str, ...], yes: object, no: object
) -> None:
    plain = _constraint(operator, *values)
    assert (holds(plain, {"f": yes}, NOW), holds(plain, {"f": no}, NOW)) == (True, False)
    # inverted negates, whatever the field holds
    inverted = _constraint(operator, *values, inverted=True)
    assert (holds(inverted, {"f": yes}, NOW), holds(inverted, {"f": no}, NOW)) == (False, True)
    # the field is found in `properties` too
    assert holds(plain, {"properties": {"f": yes}}, NOW) is True


@pytest.mark.parametrize(("operator", "values", "yes", "no"), CASES, ids=[c[0] for c in CASES])
def test_a_missing_field_does_not_match_but_for_not_in(
    operator: str, values: tuple[str, ...], yes: object, no: object
) -> None:
    missing = {"other": yes}
    assert holds(_constraint(operator, *values), missing, NOW) is (operator == "NOT_IN")
    assert holds(_constraint(operator, *values, inverted=True), missing, NOW) is (
        operator != "NOT_IN"
    )


def test_case_insensitive_for_the_string_and_in_operators() -> None:
    for operator, value, context in [
        ("IN", "EU", "eu"),
        ("NOT_IN", "EU", "asia"),
        ("STR_STARTS_WITH", "Beta", "BETA-1"),
        ("STR_ENDS_WITH", "ACME.COM", "ada@acme.com"),
        ("STR_CONTAINS", "Canary", "eu-CANARY"),
    ]:
        sensitive = _constraint(operator, value)
        insensitive = _constraint(operator, value, case_insensitive=True)
        assert holds(insensitive, {"f": context}, NOW) is True, operator
        if operator != "NOT_IN":
            assert holds(sensitive, {"f": context}, NOW) is False, operator
    assert holds(_constraint("NOT_IN", "EU", case_insensitive=True), {"f": "eu"}, NOW) is False


def test_semver_precedence_of_pre_releases() -> None:
    # 2.0.0's order: 1.0.0-alpha < 1.0.0-alpha.1 < 1.0.0-alpha.beta < 1.0.0-beta
    # < 1.0.0-beta.2 < 1.0.0-beta.11 < 1.0.0-rc.1 < 1.0.0 (string order would put
    # beta.11 before beta.2, and 1.0.0 before 1.0.0-rc.1)
    ordered = [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
    ]
    for lower, higher in itertools.pairwise(ordered):
        assert holds(_constraint("SEMVER_LT", higher), {"f": lower}, NOW), (lower, higher)
        assert holds(_constraint("SEMVER_GT", lower), {"f": higher}, NOW), (lower, higher)
        assert not holds(_constraint("SEMVER_GT", higher), {"f": lower}, NOW)
    # build metadata does not count; a context value that is no version never matches
    assert holds(_constraint("SEMVER_EQ", "1.0.0"), {"f": "1.0.0+build.5"}, NOW)
    assert not holds(_constraint("SEMVER_LT", "2.0.0"), {"f": "1.0"}, NOW)
    assert not holds(_constraint("SEMVER_LT", "2.0.0"), {"f": 1}, NOW)


def test_dates_compare_as_instants_across_time_zones() -> None:
    after = _constraint("DATE_AFTER", "2025-05-01T12:00:00+02:00")  # 10:00 UTC
    assert holds(after, {"f": "2025-05-01T10:00:01Z"}, NOW)
    assert not holds(after, {"f": "2025-05-01T10:00:00Z"}, NOW)  # the same instant
    assert holds(after, {"f": "2025-05-01T06:30:01-03:30"}, NOW)  # 10:00:01 UTC
    assert not holds(after, {"f": "2025-05-01T06:30:00-03:30"}, NOW)  # 10:00 UTC
    assert holds(after, {"f": "2025-05-01T19:00:01+09:00"}, NOW)  # 10:00:01 UTC
    # a context time without a zone is UTC; one that is no date-time never matches
    assert holds(after, {"f": "2025-05-01T10:00:01"}, NOW)
    assert not holds(after, {"f": "tomorrow"}, NOW)
    # currentTime, when the context leaves it out, is now
    before = _constraint("DATE_BEFORE", "2025-06-01T12:00:01Z", field="currentTime")
    assert holds(before, {}, NOW) is True
    assert holds(before, {}, datetime(2025, 6, 1, 12, 0, 2, tzinfo=UTC)) is False


def test_numbers_compare_exactly_and_strings_are_not_numbers_unless_numeric() -> None:
    equal = _constraint("NUM_EQ", "0.3")
    assert holds(equal, {"f": 0.3}, NOW)
    assert holds(equal, {"f": "0.30"}, NOW)
    assert not holds(equal, {"f": True}, NOW)
    assert not holds(equal, {"f": "0.3 apples"}, NOW)
    assert not holds(equal, {"f": "nan"}, NOW)
    # IN compares numbers and booleans as JSON writes them
    assert holds(_constraint("IN", "3", "true"), {"f": 3}, NOW)
    assert holds(_constraint("IN", "3", "true"), {"f": True}, NOW)
    assert not holds(_constraint("IN", "3"), {"f": [3]}, NOW)


def _paths(spec: StrategySpec) -> str:
    with pytest.raises(BadInput) as refused:
        normalised(spec)
    assert refused.value.field is not None
    return refused.value.field


def test_each_rule_is_refused_naming_its_input_path() -> None:
    ok = ConstraintSpec("country", "IN", values=("eu",))
    assert (
        _paths(
            StrategySpec(
                "s",
                constraints=(ok, ok, ConstraintSpec("v", "SEMVER_GT", values=("1.0",))),
            )
        )
        == "strategy.constraints[2].values[0]"
    )
    refusals = {
        "strategy.constraints[0].value": ConstraintSpec("n", "NUM_GT", value="ten"),
        "strategy.constraints[0].values": ConstraintSpec("n", "IN", values=()),
        "strategy.constraints[0].contextName": ConstraintSpec("a b", "IN", values=("x",)),
        "strategy.constraints[0].caseInsensitive": ConstraintSpec(
            "n", "NUM_GT", value="1", case_insensitive=True
        ),
    }
    for path, constraint in refusals.items():
        assert _paths(StrategySpec("s", constraints=(constraint,))) == path
    dates = ["2025-05-01", "2025-05-01T12:00:00", "05/01/2025 12:00Z"]  # no zone, no ISO
    for text in dates:
        spec = StrategySpec("s", constraints=(ConstraintSpec("d", "DATE_AFTER", value=text),))
        assert _paths(spec) == "strategy.constraints[0].value", text
    assert _paths(StrategySpec(" padded")) == "strategy.name"
    assert _paths(StrategySpec("s", parameters=[1])) == "strategy.parameters"


def _weights(*variants: VariantSpec) -> list[int]:
    stored = normalised(StrategySpec("s", variants=variants))
    return [v["weight"] for v in stored["variants"]]


def test_fix_weights_are_kept_and_variable_ones_share_the_rest() -> None:
    assert _weights(VariantSpec("a"), VariantSpec("b"), VariantSpec("c")) == [334, 333, 333]
    assert _weights(
        VariantSpec("a", 200, "FIX"),
        VariantSpec("b"),
        VariantSpec("c", 999),  # ignored
    ) == [200, 400, 400]
    assert _weights(VariantSpec("a", 1000, "FIX"), VariantSpec("b")) == [1000, 0]
    assert _weights(VariantSpec("a", 250, "FIX"), VariantSpec("b", 750, "FIX")) == [250, 750]
    assert sum(_weights(VariantSpec("a", 1, "FIX"), *(VariantSpec(f"v{i}") for i in range(7)))) == (
        1000
    )


def test_weights_beyond_the_rules_are_refused() -> None:
    over = StrategySpec("s", variants=(VariantSpec("a", 600, "FIX"), VariantSpec("b", 401, "FIX")))
    assert _paths(over) == "strategy.variants"
    short = StrategySpec("s", variants=(VariantSpec("a", 600, "FIX"),))  # nothing takes 400
    assert _paths(short) == "strategy.variants"
    out = StrategySpec("s", variants=(VariantSpec("a", 1001, "FIX"), VariantSpec("b")))
    assert _paths(out) == "strategy.variants[0].weight"
    missing = StrategySpec("s", variants=(VariantSpec("b"), VariantSpec("a", None, "FIX")))
    assert _paths(missing) == "strategy.variants[1].weight"
    twice = StrategySpec("s", variants=(VariantSpec("a"), VariantSpec("a")))
    assert _paths(twice) == "strategy.variants[1].name"
    payload = StrategySpec(
        "s", variants=(VariantSpec("a", payload_type="JSON", payload_value="{"),)
    )
    assert _paths(payload) == "strategy.variants[0].payload.value"


def test_murmur3_is_the_sdks_hash() -> None:
    # MurmurHash3 x86_32 reference values, and the Unleash SDKs' own test values
    # of normalizedValue (the same in their Node, Java and Go clients)
    assert murmur3_32(b"", 0) == 0
    assert murmur3_32(b"hello", 0) == 0x248BFA47
    assert murmur3_32(b"The quick brown fox jumps over the lazy dog", 0) == 0x2E4FF723
    assert normalized_value("123", "gr1", 100) == 73
    assert normalized_value("999", "groupX", 100) == 25


def test_variants_are_distributed_as_weighted_over_ten_thousand_users() -> None:
    strategy = normalised(
        StrategySpec(
            "canary",
            variants=(
                VariantSpec("control", 500, "FIX"),
                VariantSpec("canary", 100, "FIX"),
                VariantSpec("a"),
                VariantSpec("b"),
            ),
        )
    )
    counts = Counter(
        pick_variant(strategy, {"userId": f"user-{n}"})["name"]  # type: ignore[index]
        for n in range(10_000)
    )
    for variant in strategy["variants"]:
        share = counts[variant["name"]] / 10_000
        assert abs(share - variant["weight"] / 1000) <= 0.02, (variant, share)
    # the same context, the same variant; a context with no stickiness field is hashed whole
    again = [pick_variant(strategy, {"userId": f"user-{n}"}) for n in range(50)]
    assert again == [pick_variant(strategy, {"userId": f"user-{n}"}) for n in range(50)]
    assert pick_variant(strategy, {"region": "eu"}) == pick_variant(strategy, {"region": "eu"})


def test_evaluation_needs_every_constraint_and_a_live_strategy() -> None:
    strategy = normalised(
        StrategySpec(
            "s",
            constraints=(
                ConstraintSpec("region", "IN", values=("eu",)),
                ConstraintSpec("appVersion", "SEMVER_GT", value="1.0.0"),
            ),
            variants=(VariantSpec("only"),),
        )
    )
    both = evaluate(strategy, {"region": "eu", "appVersion": "1.0.1", "userId": "u"}, NOW)
    assert (both.enabled, both.variant and both.variant["name"], len(both.matched)) == (
        True,
        "only",
        2,
    )
    one = evaluate(strategy, {"region": "eu", "appVersion": "1.0.0-rc.1"}, NOW)
    assert (one.enabled, one.variant, [c["contextName"] for c in one.matched]) == (
        False,
        None,
        ["region"],
    )
    disabled = evaluate({**strategy, "disabled": True}, {"region": "eu", "appVersion": "2.0.0"})
    assert (disabled.enabled, disabled.variant) == (False, None)
    assert evaluate(None, {"userId": "u"}).enabled is False
