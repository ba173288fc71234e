"""Starting another flow while one runs (``call:``): the flow stack.

A ``call`` puts the called flow on top of the running one. The called flow runs with data
of its own (``data:``, or nothing), so its slots and templates never mix with the
caller's; when it reaches a ``final`` state its data is dropped and the caller goes on,
as the call says, explicitly:

- ``then: STATE``: at that state of the calling flow;
- ``resume: true`` (a rule only): at the state the rule fired in, entered again;
- ``end: true``: the calling flow ends at once, its data with it, and the called flow
  takes its place (when that one ends, the flow below, if any, goes on).

A state's ``call`` runs as the state is entered; a rule's (``on`` or ``global``) after
its ``set``, ``do`` and ``say``.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, Field, model_validator

from botkit.flows.fields import (
    NAME_PATTERN,
    FlowRef,
    SlotName,
    StateName,
    StateRef,
    TrueFlag,
    check_set_values,
    fail,
)
from botkit.flows.model import FlowModel

__all__ = ["Call"]

_WAYS_BACK = ("then", "resume", "end")


class Call(FlowModel):
    """Run another flow on top of this one; then go on at ``then``, ``resume`` or ``end``."""

    flow: FlowRef = Field(description="The name of the flow to run (its flow: key).")
    state: StateName | None = Field(None, description=(
        "The state of the called flow to start at (default: its start)."))
    then: StateRef | None = Field(None, description=(
        "The state of this flow to go on at when the called flow reaches a final state."))
    resume: TrueFlag | None = Field(None, description=(
        "true (rules only): when the called flow ends, enter the state the rule fired in "
        "again."))
    end: TrueFlag | None = Field(None, description=(
        "true: this flow ends now (its data is dropped) and the called flow takes its "
        "place."))
    data: Annotated[dict[SlotName, Any], AfterValidator(check_set_values)] | None = Field(
        None, json_schema_extra={"propertyNames": {"pattern": NAME_PATTERN.pattern}},
        description=("Values the called flow starts with, by name; text may use templates "
                     "of this flow's data ({{ order_id }}). Nothing else of this flow's "
                     "data is seen by the called flow."))

    @model_validator(mode="after")
    def _one_way_back(self) -> Call:
        given = [key for key in _WAYS_BACK if getattr(self, key) is not None]
        if not given:
            fail("call needs then (the state to go on at), resume: true or end: true",
                 prefix=False)
        if len(given) > 1:
            fail(f"{given[1]!r} cannot be used with {given[0]}: a call goes on one way",
                 given[1], at="key", prefix=False)
        return self
