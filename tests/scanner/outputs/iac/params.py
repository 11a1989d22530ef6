"""Every param a catalogue fix asks for, as whoever applies the fix would give them (typed JSON)."""

from __future__ import annotations

from typing import Any


def fix_params(subscription: str) -> dict[str, Any]:
    """The params, their resource ids in ``subscription``."""
    identity = (
        f"/subscriptions/{subscription}/resourceGroups/id/providers/"
        "Microsoft.ManagedIdentity/userAssignedIdentities/mi"
    )
    return {
        "log_analytics_workspace_id": f"/subscriptions/{subscription}/resourceGroups/ops/"
        "providers/Microsoft.OperationalInsights/workspaces/law",
        "private_endpoint_subnet_id": f"/subscriptions/{subscription}/resourceGroups/net/"
        "providers/Microsoft.Network/virtualNetworks/vnet/subnets/pe",
        "allowed_ip_rules": [{"value": "203.0.113.0/24"}],
        "allowed_fqdns": ["contoso.openai.azure.com"],
        "key_vault_uri": "https://kv.vault.azure.net/",
        "key_name": "cmk",
        "key_version": "1",
        "key_uri": "https://kv.vault.azure.net/keys/cmk",
        "allowed_ip_range": "203.0.113.0/24",
        "identity_client_id": "00000000-0000-0000-0000-000000000009",
        "custom_subdomain_name": "contoso-aoai",
        "retention_days": 30,
        "admin_group_object_ids": ["00000000-0000-0000-0000-00000000000a"],
        "network_policy_engine": "calico",
        "authorized_ip_ranges": ["203.0.113.0/24"],
        "model_owner": "risk@contoso.example",
        "model_risk_tier": "tier-2",
        "model_validation_date": "2026-11-30",
        "model_id": "MRM-0042",
        "user_assigned_identity_id": identity,
        "user_assigned_identities": {identity: {}},
    }
