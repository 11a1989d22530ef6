"""Exactly-once POSTs: the ``Idempotency-Key`` header, its records and their replay."""
