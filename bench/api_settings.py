"""What the API benchmark (``bench/api.py``) runs with: paths, the scan body, limits, targets."""

from __future__ import annotations

import re
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "RESULTS-api.md"
TUTELA = Path(sys.executable).parent / "tutela"
FRAMEWORKS = ["iso42001", "sr11_7", "eu_ai_act", "nist_ai_rmf", "mas_trm", "dora", "sox"]
SCAN_BODY = {"frameworks": FRAMEWORKS, "generate_narrative": False}
# Issue 22: POST /scan p50 < 75 ms and p95 < 120 ms, with 8 concurrent clients on one tenant
# and no errors, on SQLite and PostgreSQL; GET /report/{id} p50 < 20 ms.
TARGET_P50_MS = 75.0
TARGET_P95_MS = 120.0
TARGET_GET_P50_MS = 20.0
WARM_UP = 3
SEED = 42
POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
RATE_LIMIT = "100000/minute"
KEY = re.compile(r"\btut_[A-Za-z0-9]+")
# Every phase scans for one tenant: a report id is the second of its scan, with -2, -3, … for
# the tenant's further reports of that second (reports/ids.py), so bursts are never refused.
