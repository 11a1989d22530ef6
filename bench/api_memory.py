"""Peak memory of a real ``tutela serve`` process for the largest inputs one request may carry.

    python bench/api_memory.py [--resources N] [--results bench/RESULTS-api-memory.md]

N defaults to the enterprise plan's ``max_resources_per_scan``: the most any tenant may scan at
once. Each case gets a fresh data directory, an enterprise tenant (``tutela admin
create-tenant``) and a fresh ``tutela serve`` on a free port, so the server's peak RSS (VmHWM in
/proc/PID/status) is that case's alone:

- **plan**: ``POST /scan/iac`` of a ``terraform show -json`` plan from ``bench/generate.py``, the
  largest one within both limits: N resources, or fewer when such a plan would be over
  ``TUTELA_MAX_UPLOAD_BYTES`` (a plan spells each resource out twice or three times);
- **template**: ``POST /scan/iac`` of the ARM template of an estate of N resources;
- **snapshot**: ``PUT …/snapshot`` of one subscription's Resource Graph export of N resources
  (``api_snapshot.build_snapshot``), then ``POST /scan`` of that subscription.

- **template-keyed**: the template again, with an ``Idempotency-Key`` as the SDK sends every POST
  (the server keeps such an answer to replay it).
- **report**: ``GET /report/{id}`` of the template's saved report (saved by one server, read by
  a fresh one, so the scan's own peak is not counted);
- **governance**: the snapshot's subscription linked and uploaded, then two governance scans by
  ``tutela jobs run-due`` in the server's environment (the process that runs them, as cron or a
  worker would): the first (assess, store), then the next day's, which also compares its findings
  with the first's (drift). Each row is that process's peak RSS (its own VmHWM as it exits).
- **diff**: ``POST /reports/diff`` of the template's saved report and that of the template with
  a few resources changed (``api_memory_diff``), by a fresh server; **diff-keyed** the same with
  an ``Idempotency-Key``.
- **insights-scorecard**, **insights-roadmap**, **insights-auditor**, **insights-auditor-pdf**:
  ``GET /report/{id}/scorecard``, ``/roadmap``, ``/auditor-package`` and the package as a PDF
  of the template's saved report, each by a fresh server (``api_memory_insights``).

``--cases`` measures some of them: the rows of the others are kept from the results file.

The servers run with ``TUTELA_SCHEDULER_INTERVAL_SECONDS=0``, so no governance scan of their own
runs beside the request measured.

Every scan is saved and counted (no dry run: storing seals the report too), with all 7
frameworks and the plan's default narratives, answered gzip-compressed (httpx asks for it, as
the SDK does); the body sizes are measured both ways. The request and response bytes stay in this
process: only the server's memory is measured.
"""

from __future__ import annotations

import argparse
import functools
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
import zlib
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from api_memory_render import kept_rows, render
from api_server import Server, create_tenants, tutela, tutela_env
from api_settings import BENCH, FRAMEWORKS, SEED
from api_snapshot import Snapshot, build_snapshot

RESULTS = BENCH / "RESULTS-api-memory.md"
CASES = (  # a run of all (``--cases`` names some)
    "plan,template,snapshot,template-keyed,report,governance,diff,"
    "insights-scorecard,insights-roadmap,insights-auditor,insights-auditor-pdf"
)
UPLOAD_LIMIT = 50 * 1024 * 1024  # TUTELA_MAX_UPLOAD_BYTES' default
_COUNT = re.compile(
    rb'"(resources_scanned|critical_count|high_count|medium_count|low_count)":(\d+)'
)


@dataclass
class Case:
    name: str
    request: str
    input_desc: str
    input_bytes: int
    status: int | str  # the HTTP status, or a command's exit
    seconds: float
    peak_rss: int  # bytes, VmHWM of the server after the request (a command's ru_maxrss)
    idle_rss: int | None  # bytes, VmRSS of the server before the request
    resources: int
    findings: int
    wire_bytes: int | None  # the body as sent (gzip)
    plain_bytes: int | None  # the body decoded


def vm(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} for process {pid}")


def generate(size: int, work: Path) -> Path:
    out = work / f"estate-{size}"
    if not out.exists():
        subprocess.run(  # noqa: S603
            [sys.executable, str(BENCH / "generate.py"), str(size), "--seed", str(SEED),
             "--out", str(out)],
            check=True, capture_output=True,
        )  # fmt: skip
    return out


def largest_plan(resources: int, work: Path) -> tuple[Path, int]:
    """The plan of the largest generated estate of at most ``resources`` within the upload limit."""
    size = resources
    while True:
        plan = generate(size, work) / "plan.json"
        have = plan.stat().st_size
        if have <= UPLOAD_LIMIT:
            return plan, size
        size = int(size * UPLOAD_LIMIT / have * 0.98)


def counted(path: Path) -> int:
    """Resources in an IaC file as the server counts them against the limit."""
    from tutela.server.scans.service import read_iac

    estate, _ = read_iac(path.read_bytes())
    return estate.scanned


def largest_template(resources: int, work: Path) -> tuple[Path, int, int]:
    """The template of the largest generated estate whose resources (as Tutela counts them,
    fewer than the generator's N) are at most ``resources``: (file, N, resources)."""
    size = resources
    for _ in range(6):
        template = generate(size, work) / "template.json"
        have = counted(template)
        if have <= resources and (have >= resources * 0.99 or _ == 5):
            return template, size, have
        size = int(size * resources / have * (0.998 if have > resources else 1.0))
    raise RuntimeError("no template size found")


def header_counts(body: bytes) -> tuple[int, int]:
    """(resources scanned, findings) read from the report's header members, without parsing it."""
    counts = {k.decode(): int(v) for k, v in _COUNT.findall(body[:4096] + body[-4096:])}
    findings = sum(counts.get(f"{s}_count", 0) for s in ("critical", "high", "medium", "low"))
    return counts.get("resources_scanned", 0), findings


def case_env(data_dir: Path) -> dict[str, str]:
    env = tutela_env(data_dir, None)
    env["TUTELA_SCHEDULER_INTERVAL_SECONDS"] = "0"  # only the request measured runs
    return env


def run_case(name: str, work: Path, send: object, input_desc: str, input_bytes: int) -> Case:
    data_dir = work / f"data-{name}"
    env = case_env(data_dir)
    tutela(env, "db", "upgrade")
    [tenant] = create_tenants(env, 1, name)
    server = Server(env, work / f"server-{name}.log")
    try:
        server.wait_healthy()
        with httpx.Client(base_url=server.base_url, timeout=900, headers=tenant.headers) as client:
            assert callable(send)
            prepare, request = send(client)
            return measure(server, name, prepare, request, input_desc, input_bytes)
    finally:
        server.stop()


def measure(
    server: Server, name: str, prepare: str, request: object, input_desc: str, input_bytes: int
) -> Case:
    """The server's peak RSS over one request (``request()``: an httpx stream), and its answer."""
    assert callable(request)
    idle = vm(server.process.pid, "VmRSS")
    started = time.perf_counter()
    with request() as response:
        wire = b"".join(response.iter_raw())
    seconds = time.perf_counter() - started
    peak = vm(server.process.pid, "VmHWM")
    gzipped = response.headers.get("content-encoding") == "gzip"
    body = zlib.decompress(wire, wbits=31) if gzipped else wire
    if response.status_code != 200:
        print(f"{name}: {response.status_code} {body[:300]!r}", file=sys.stderr)
    resources, findings = header_counts(body)
    return Case(
        name, prepare, input_desc, input_bytes, response.status_code, seconds, peak, idle,
        resources, findings, len(wire), len(body),
    )  # fmt: skip


def save_report(client: httpx.Client, path: Path) -> str:
    """``POST /scan/iac`` of the file, its answer read and dropped; the stored report's id."""
    with client.stream(
        "POST", "/scan/iac", content=path.read_bytes(),
        headers={"Content-Type": "application/json"},
    ) as saved:  # fmt: skip
        for _ in saved.iter_raw():
            pass
        if saved.status_code != 200:
            raise RuntimeError(f"saving {path.name}: {saved.status_code}")
    [row] = client.get("/reports", params={"limit": 1}).json()["items"]
    return str(row["report_id"])


def report_case(path: Path, work: Path, desc: str) -> Case:
    """GET /report/{id} of the template's saved report, by a server started once it was saved
    (VmHWM is the process's high-water mark: the scan's own peak is not in it)."""
    env = case_env(work / "data-report")
    tutela(env, "db", "upgrade")
    [tenant] = create_tenants(env, 1, "report")
    saver = Server(env, work / "server-report-save.log")
    try:
        saver.wait_healthy()
        with httpx.Client(base_url=saver.base_url, timeout=900, headers=tenant.headers) as client:
            report_id = save_report(client, path)
    finally:
        saver.stop()
    server = Server(env, work / "server-report.log")
    try:
        server.wait_healthy()
        with httpx.Client(base_url=server.base_url, timeout=900, headers=tenant.headers) as client:

            def request():  # type: ignore[no-untyped-def]
                return client.stream("GET", f"/report/{report_id}")

            what = "GET /report/{id} (the template's report, saved by POST /scan/iac)"
            return measure(server, "report", what, request, desc, path.stat().st_size)
    finally:
        server.stop()


def iac_case(name: str, path: Path, work: Path, desc: str, *, keyed: bool = False) -> Case:
    content = path.read_bytes()
    headers = {"Content-Type": "application/json"}
    if keyed:  # as the SDK and `tutela gate` send every POST: the answer is kept for replays
        headers["Idempotency-Key"] = str(uuid.uuid4())

    def send(client: httpx.Client):  # type: ignore[no-untyped-def]
        def request():  # type: ignore[no-untyped-def]
            return client.stream("POST", "/scan/iac", content=content, headers=headers)

        with_key = ", with an `Idempotency-Key` as the SDK sends" if keyed else ""
        return f"POST /scan/iac (saved and counted{with_key})", request

    return run_case(name, work, send, desc, len(content))


@functools.cache
def snapshot_of(resources: int, work: Path) -> Snapshot:
    return build_snapshot(resources, work)


def snapshot_desc(snapshot: Snapshot) -> str:
    command = snapshot.command.split(" --out ")[0]
    return f"one subscription of `{command}`, its first {snapshot.resources:,} resources"


def snapshot_case(resources: int, work: Path) -> Case:
    snapshot = snapshot_of(resources, work)
    sub = snapshot.subscription_id

    def send(client: httpx.Client):  # type: ignore[no-untyped-def]
        linked = client.put("/tenant/subscriptions", json={"subscription_ids": [sub]})
        linked.raise_for_status()
        uploaded = client.put(
            f"/tenant/subscriptions/{sub}/snapshot",
            content=snapshot.body,
            headers={"Content-Type": "application/json"},
        )
        if uploaded.status_code != 200:
            raise RuntimeError(f"snapshot upload: {uploaded.status_code} {uploaded.text[:300]}")

        def request():  # type: ignore[no-untyped-def]
            return client.stream("POST", "/scan", json={"frameworks": FRAMEWORKS})

        return "PUT …/snapshot, then POST /scan (saved and counted)", request

    return run_case("snapshot", work, send, snapshot_desc(snapshot), snapshot.size_bytes)


def main() -> None:
    from tutela.scanner.catalog import load_catalog

    enterprise = load_catalog().plan("enterprise").max_resources_per_scan
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--resources", type=int, default=enterprise)
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--cases", default=CASES)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tutela-api-memory-"))
    cases = []
    try:
        wanted = args.cases.split(",")
        if "plan" in wanted:
            plan, size = largest_plan(args.resources, work)
            desc = f"plan of `bench/generate.py {size} --seed {SEED}`"
            cases.append(iac_case("plan", plan, work, desc))
            print(cases[-1], flush=True)
        if "template" in wanted:
            template, size, _ = largest_template(args.resources, work)
            desc = f"template of `bench/generate.py {size} --seed {SEED}`"
            cases.append(iac_case("template", template, work, desc))
            print(cases[-1], flush=True)
        if "snapshot" in wanted:
            cases.append(snapshot_case(args.resources, work))
            print(cases[-1], flush=True)
        if "template-keyed" in wanted:
            template, size, _ = largest_template(args.resources, work)
            desc = f"template of `bench/generate.py {size} --seed {SEED}`"
            cases.append(iac_case("template-keyed", template, work, desc, keyed=True))
            print(cases[-1], flush=True)
        if "report" in wanted:
            template, size, _ = largest_template(args.resources, work)
            desc = f"template of `bench/generate.py {size} --seed {SEED}`"
            cases.append(report_case(template, work, desc))
            print(cases[-1], flush=True)
        if "governance" in wanted:
            from api_memory_governance import governance_cases

            cases += governance_cases(args.resources, work)
        if "diff" in wanted:
            from api_memory_diff import diff_cases

            template, size, _ = largest_template(args.resources, work)
            desc = f"template of `bench/generate.py {size} --seed {SEED}`, and it changed"
            cases += diff_cases(template, work, desc)
        insights = [name for name in wanted if name.startswith("insights-")]
        if insights:
            from api_memory_insights import insights_cases

            template, size, _ = largest_template(args.resources, work)
            desc = f"template of `bench/generate.py {size} --seed {SEED}`"
            cases += insights_cases(template, work, desc, insights)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    command = "python bench/api_memory.py" + (
        f" --resources {args.resources}" if args.resources != enterprise else ""
    )
    if args.cases != parser.get_default("cases"):
        command += f" --cases {args.cases}"
    kept = kept_rows(args.results, {c.name for c in cases} | set(wanted))
    args.results.write_text(render(cases, args.resources, command, kept), encoding="utf-8")
    print(f"wrote {args.results}")


if __name__ == "__main__":
    main()
