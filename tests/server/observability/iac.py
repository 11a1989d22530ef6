"""An ARM template that fails checks: what the observability tests scan."""

from __future__ import annotations

import json

SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
RESOURCE_NAMES = ("stobservedpublic", "oai-observed-keys")
TEMPLATE = json.dumps(
    {
        "$schema": SCHEMA,
        "contentVersion": "1.0.0.0",
        "resources": [
            {
                "type": "Microsoft.Storage/storageAccounts",
                "apiVersion": "2023-01-01",
                "name": RESOURCE_NAMES[0],
                "location": "westeurope",
                "properties": {"allowBlobPublicAccess": True, "minimumTlsVersion": "TLS1_0"},
            },
            {
                "type": "Microsoft.CognitiveServices/accounts",
                "apiVersion": "2024-10-01",
                "name": RESOURCE_NAMES[1],
                "location": "westeurope",
                "kind": "OpenAI",
                "properties": {"disableLocalAuth": False, "publicNetworkAccess": "Enabled"},
            },
        ],
    }
).encode()
