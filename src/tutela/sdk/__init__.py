"""The Python client of the Tutela API (httpx only; nothing from ``tutela.server``)."""
