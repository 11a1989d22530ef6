"""Schemathesis hooks (``SCHEMATHESIS_HOOKS``) of the conformance run.

- The run's own key stays usable to the end. The run may create, rename and revoke keys, but a
  write naming the key it authenticates with (its id in ``PROTECTED_KEY_ID``) is pointed at an
  id that does not exist instead: the request is still sent and checked (a 404), and every
  later request still authenticates.
- A valid generated ``Idempotency-Key`` is replaced by a fresh one, as a client makes one per
  request: generated keys repeat ("0"), and a key reused for another body is rightly a 422.
  An invalid one is sent as generated, so its 422 is still checked.
"""

from __future__ import annotations

import os
import re
import uuid
from typing import Any

import schemathesis

PROTECTED_KEY_ID = os.environ.get("PROTECTED_KEY_ID", "")
NO_SUCH_ID = "00000000-0000-4000-8000-000000000000"
READS = frozenset({"GET", "HEAD", "OPTIONS"})
VALID_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")


def _spare(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace(PROTECTED_KEY_ID, NO_SUCH_ID)
    if isinstance(value, list):
        return [_spare(item) for item in value]
    if isinstance(value, dict):
        return {key: _spare(item) for key, item in value.items()}
    return value


@schemathesis.hook
def before_call(context: schemathesis.HookContext, case: schemathesis.Case, kwargs: Any) -> None:
    for name, value in (case.headers or {}).items():
        if name.lower() == "idempotency-key" and VALID_IDEMPOTENCY_KEY.fullmatch(str(value)):
            case.headers[name] = str(uuid.uuid4())
    if not PROTECTED_KEY_ID or case.method.upper() in READS:
        return
    if case.path_parameters:
        case.path_parameters = _spare(case.path_parameters)
    if case.query:
        case.query = _spare(case.query)
    if isinstance(case.body, dict | list | str):
        case.body = _spare(case.body)
