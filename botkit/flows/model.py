"""The base of every flow model: unknown keys and empty values are errors."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from botkit.flows.fields import fail

__all__ = ["FlowModel"]


class FlowModel(BaseModel):
    """Base of every flow model: unknown keys and empty values are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_by_name=False,
                              validate_by_alias=True)

    @field_validator("*", mode="before")
    @classmethod
    def _has_value(cls, value: Any) -> Any:
        # `goto:` with nothing after it reads as null: almost always a slip, never a wish.
        if value is None:
            fail("has no value; write one or leave the key out", at="key")
        return value
