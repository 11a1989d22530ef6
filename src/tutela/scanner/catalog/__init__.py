"""The catalogue: frameworks and plans as validated data shipped inside the package."""

from tutela.scanner.catalog.loader import (
    Catalog,
    CatalogError,
    Framework,
    Plan,
    PlanFeatures,
    load_catalog,
)

__all__ = ["Catalog", "CatalogError", "Framework", "Plan", "PlanFeatures", "load_catalog"]
