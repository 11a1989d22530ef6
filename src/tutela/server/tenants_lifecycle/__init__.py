"""A tenant's end of life: its export for a customer leaving, its deletion and purge."""
