"""Platform analytics for operators: counts across tenants, under /admin/analytics."""
