"""Customer-managed keys (CMK): a tenant's Azure Key Vault secret or key wraps the data keys of
its reports and snapshots; the two-step switch back to the platform key; key health checks."""
