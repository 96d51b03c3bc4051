"""Enums of the graph (their values are the database's)."""

from __future__ import annotations

import enum

import strawberry


@strawberry.enum(description="The stage of a model's data an environment holds.")
class EnvironmentType(enum.Enum):
    PRE_PRODUCTION = "PRE_PRODUCTION"
    PRODUCTION = "PRODUCTION"


@strawberry.enum(description="What a project monitors.")
class AssetType(enum.Enum):
    ML_MODEL = "ML_MODEL"
    GEN_AI_APP = "GEN_AI_APP"
