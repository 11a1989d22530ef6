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
TARGET_P50_MS = 150.0
WARM_UP = 3
SEED = 42
POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
RATE_LIMIT = "100000/minute"
KEY = re.compile(r"\btut_[A-Za-z0-9]+")
# A report id is COMP-<date>-<time to the second>, unique per tenant: a report takes the first
# free second from its scan's time on, at most 60 seconds ahead (reports/service.py). A tenant
# therefore stores about one report per second sustained, and a burst of more than ~60 stored
# scans fails with 400 "No free report id". Each tenant here stores at most this many reports.
REPORTS_PER_TENANT = 40
