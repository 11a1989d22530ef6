"""The input model base: JSON types as the OpenAPI document states them, and storable text."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from pydantic import Field, SecretStr, StrictBool, ValidationError

from tests.platform import Platform
from tutela.server.schemas import InputModel


class Sample(InputModel):
    flag: bool | None = None
    strict_flag: StrictBool | None = None
    days: int | None = Field(default=None, ge=1)
    ratio: float = 1.0
    name: str = ""
    subscription: uuid.UUID | None = None
    labels: list[str] = []
    tags: dict[str, str] = {}
    secret: SecretStr | None = None


@pytest.mark.parametrize(
    ("data", "error_type"),
    [
        ({"flag": 0}, "bool_type"),
        ({"flag": "true"}, "bool_type"),
        ({"strict_flag": 1}, "bool_type"),
        ({"days": "5"}, "int_type"),
        ({"days": True}, "int_type"),
        ({"days": 5.5}, "int_type"),
        ({"ratio": "0.5"}, "float_type"),
        ({"ratio": False}, "float_type"),
        ({"name": 5}, "string_type"),
        ({"name": "a\x00b"}, "string_unstorable"),
        ({"labels": ["ok", "\x00"]}, "string_unstorable"),
        ({"tags": {"k\x00": "v"}}, "string_unstorable"),
        ({"tags": {"k": "v\x00"}}, "string_unstorable"),
        ({"secret": "s3cr\x00t"}, "string_unstorable"),
        ({"name": "a\ud800"}, "string_unicode"),
    ],
)
def test_wrong_json_types_and_unstorable_text_are_refused(
    data: dict[str, Any], error_type: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        Sample.model_validate(data)
    (error,) = caught.value.errors()
    assert error["type"] == error_type
    assert error["loc"] == (next(iter(data)),)


@pytest.mark.parametrize(
    "data",
    [
        {"flag": True, "strict_flag": False, "days": 5, "ratio": 2, "name": " trimmed "},
        {"days": 5.0, "ratio": 0.25, "subscription": str(uuid.uuid4())},
        {"flag": None, "days": None, "labels": ["é", "\t tab and newline \n"], "tags": {"k": "v"}},
        {"secret": "a secret with \x01 control characters"},
    ],
)
def test_json_of_the_documented_types_is_accepted(data: dict[str, Any]) -> None:
    Sample.model_validate(data)


def test_a_number_for_a_boolean_is_a_422_over_http(platform: Platform) -> None:
    """Pydantic's lax mode took 0 as false: the document says boolean (schemathesis ST201)."""
    tenant = platform.tenant()
    settings = ("governance_enabled", "cadence")  # next_scan_ts of a new tenant moves with now

    def governance() -> dict[str, object]:
        body = platform.client.get("/governance", headers=tenant.headers).json()
        return {name: body[name] for name in settings}

    before = governance()
    assert before["governance_enabled"] is True
    response = platform.client.put(
        "/governance", json={"governance_enabled": 0}, headers=tenant.headers
    )
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "governance_enabled"]
    assert error["type"] == "bool_type"
    assert governance() == before
