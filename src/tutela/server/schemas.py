"""Schema bases shared by every domain: inputs forbid unknown fields, outputs are explicit."""

from __future__ import annotations

import datetime as dt
import types
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, PlainSerializer, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from tutela.server.text import UNSTORABLE_MESSAGE, UNSTORABLE_TYPE, holds_unstorable_text

# To the second, like report ids and the seed's example: "2026-05-12T06:00:00Z".
Timestamp = Annotated[
    dt.datetime,
    PlainSerializer(lambda t: t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), return_type=str),
]

_JSON_SCALARS = (bool, int, float, str)
# Pydantic's own error for a value of the wrong JSON type, by the type the field takes.
_WRONG_TYPE = {
    bool: ("bool_type", "Input should be a valid boolean"),
    int: ("int_type", "Input should be a valid integer"),
    float: ("float_type", "Input should be a valid number"),
}


def _scalar_types(annotation: Any) -> set[Any]:
    """The JSON scalar types a field takes; ``object`` for any other type (left to Pydantic)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _scalar_types(get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        return set().union(*(_scalar_types(arg) for arg in get_args(annotation)))
    if annotation is type(None) or annotation in _JSON_SCALARS:
        return {annotation}
    return {object}


def _has_json_type(value: Any, accepted: set[Any]) -> bool:
    if isinstance(value, bool):
        return bool in accepted
    if isinstance(value, int):
        return bool(accepted & {int, float})
    if isinstance(value, float):
        return float in accepted or (int in accepted and value.is_integer())
    return not isinstance(value, str)  # a string where none is taken; the rest is Pydantic's


class InputModel(BaseModel):
    """A request body: unknown fields, JSON of the wrong type and unstorable text are 422s."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _json_types(cls, value: Any, info: ValidationInfo) -> Any:
        # Pydantic's lax mode takes 0 or "yes" for a boolean and "5" or true for an integer:
        # the OpenAPI document says boolean and integer, so the API holds to JSON's types.
        field = cls.model_fields.get(info.field_name or "")
        if field is None or value is None:
            return value
        accepted = _scalar_types(field.annotation)
        if object in accepted or str in accepted or _has_json_type(value, accepted):
            return value
        wanted = next(t for t in (bool, int, float) if t in accepted)
        raise PydanticCustomError(*_WRONG_TYPE[wanted])

    @field_validator("*", mode="after")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        # One rule for every body: what PostgreSQL cannot store is a 422 on SQLite too.
        if holds_unstorable_text(value):
            raise PydanticCustomError(UNSTORABLE_TYPE, UNSTORABLE_MESSAGE)
        return value


class OutputModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ErrorOut(BaseModel):
    """Every error body: ``detail`` is a message, or FastAPI's list of field errors on 422."""

    detail: str | list[dict[str, object]]


class StatusOut(OutputModel):
    status: str = "ok"
