"""The bundled sample estate: Contoso Bank's AI estate, for demos, docs and smoke tests.

``contoso-bank-ai.json`` is an Azure Resource Graph export in the ``az graph query -o json``
shape: the ``resources``, ``resourcecontainers``, ``authorizationresources``,
``securityresources`` and ``policyresources`` rows of two subscriptions (prod and dev), with
what only ARM list calls return merged in (model deployments, content-filter policies, ML
computes, Key Vault keys, blob services, diagnostic settings). The bank is fictional; its
configuration mixes good and bad on purpose, so that every catalogue check is decided on it,
most both ways, and a ``--fail-on critical`` gate blocks.

Model-validation and key-expiry dates are real dates: scanned as of ``EXPORTED_ON`` the results
are the documented ones; months later, validations that were recent go stale and fail.
"""

from __future__ import annotations

import datetime as dt
from importlib.resources import files
from pathlib import Path
from typing import Final

from tutela.scanner.estate import Estate
from tutela.scanner.sources import load_json
from tutela.scanner.sources.arg import resources_from_arg

SAMPLE_FILE: Final = "contoso-bank-ai.json"
EXPORTED_ON: Final = dt.date(2026, 11, 23)


def sample_estate_path() -> Path:
    """The sample export's path on disk, inside the installed package."""
    resource = files(__name__).joinpath(SAMPLE_FILE)
    if not isinstance(resource, Path):
        # A zipped install has no file to hand to `tutela scan`; wheels install unzipped.
        raise FileNotFoundError(f"{SAMPLE_FILE} is not a file on disk ({resource!r})")
    return resource


def load_sample_estate() -> Estate:
    """The sample read through the Resource Graph source, related facts attached."""
    data = files(__name__).joinpath(SAMPLE_FILE).read_bytes()
    return Estate(resources_from_arg(load_json(data, SAMPLE_FILE), SAMPLE_FILE))
