"""The multi-tenant platform: FastAPI app, store, auth and one package per domain."""
