"""Mutations, Relay style: one `input`, a payload holding the object.
Each is one transaction: on any error nothing is written."""

from __future__ import annotations

import strawberry

from schema.mutations.api_tokens import ApiTokenMutations
from schema.mutations.environments import EnvironmentMutations
from schema.mutations.evaluations import EvaluationMutations
from schema.mutations.events import EventMutations
from schema.mutations.exports import ExportMutations
from schema.mutations.organizations import OrganizationMutations
from schema.mutations.projects import ProjectMutations
from schema.mutations.secrets import SecretMutations
from schema.mutations.segments import SegmentMutations
from schema.mutations.strategies import StrategyMutations


@strawberry.type(description="Writes: each one transaction, all or nothing.")
class Mutation(
    OrganizationMutations,
    ProjectMutations,
    EnvironmentMutations,
    SegmentMutations,
    EventMutations,
    ApiTokenMutations,
    ExportMutations,
    SecretMutations,
    StrategyMutations,
    EvaluationMutations,
):
    """Writes: each one transaction, all or nothing."""
