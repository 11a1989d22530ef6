"""``tutela gate`` against a real ``tutela serve --demo``: the verdicts and the files a pipeline
reads, IaC gating, score-drop gating, CI labels, failing closed on every error, and the shell
steps of the example pipelines in ``examples/`` run with bash as the CI would run them."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import yaml
from typer.testing import CliRunner, Result

from tests.scanner.outputs.test_outputs import sarif_schema
from tests.server.scans.estates import DEV, clean_records, export, sample_records
from tests.serving import DemoServer
from tutela.cli.gate_context import ci_label
from tutela.cli.main import app
from tutela.sdk import Session

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
FIXTURES = ROOT / "tests" / "scanner" / "sources" / "fixtures"
TF_PLAN = FIXTURES / "tf_plan_modules.json"  # no critical finding, 16 high
TF_PLAN_WORSE = FIXTURES / "tf_plan_ai_landing_zone.json"  # scores lower on every framework
ARM_TEMPLATE = FIXTURES / "arm_ai_landing_zone.json"  # no critical, no high finding
KEY = re.compile(r"\btut_[A-Za-z0-9]+")
SCRIPT = Path(sys.executable).parent / "tutela"
CI_VARIABLES = (
    "CI",
    "GITHUB_ACTIONS",
    "GITHUB_RUN_ID",
    "GITHUB_RUN_ATTEMPT",
    "GITHUB_REPOSITORY",
    "GITHUB_REF_NAME",
    "GITLAB_CI",
    "CI_PIPELINE_ID",
    "CI_JOB_ID",
    "CI_PROJECT_PATH",
    "CI_COMMIT_REF_NAME",
    "TF_BUILD",
    "BUILD_BUILDID",
    "BUILD_BUILDNUMBER",
    "BUILD_REPOSITORY_NAME",
    "BUILD_SOURCEBRANCHNAME",
)
runner = CliRunner()


@dataclass(frozen=True)
class Live:
    url: str
    key: str

    def session(self, key: str | None = None) -> Session:
        return Session(self.url, key or self.key)

    def env(self, **extra: str) -> dict[str, str]:
        return {"TUTELA_URL": self.url, "TUTELA_API_KEY": self.key, **extra}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    server = DemoServer(tmp_path_factory.mktemp("gate-server"))
    try:
        keys = KEY.findall(server.wait_until_serving())
        assert len(keys) == 1
        yield Live(server.base_url, keys[0])
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def _outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests may themselves run in CI: its variables would become the reports' labels."""
    for name in CI_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", "200")


def gate(live: Live, *args: str, **env: str | None) -> Result:
    """``tutela gate`` in this process, with the live server's URL and key in the environment."""
    return runner.invoke(app, ["gate", *args], env={**live.env(), **env})


def gate_process(*args: str, env: Mapping[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """``tutela gate`` as a pipeline runs it: the console script in a fresh process."""
    return subprocess.run(
        [str(SCRIPT), "gate", *args],
        env={"PATH": os.environ["PATH"], "LANG": "C.UTF-8", **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def report_id(output: str) -> str:
    found = re.findall(r"Report (COMP-\d{8}-\d{6}(?:-\d+)?) saved", output)
    assert len(found) == 1, output
    return str(found[0])


def stored(live: Live, report: str) -> dict[str, Any]:
    response = httpx.get(f"{live.url}/report/{report}", headers={"X-API-Key": live.key})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# --- verdicts and files -------------------------------------------------------------------------


def test_fail_on_none_passes_and_the_demos_critical_finding_blocks_by_default(live: Live) -> None:
    passed = gate(live, "--frameworks", "iso42001,sr11_7", "--fail-on", "none")
    assert passed.exit_code == 0, passed.output
    assert "Aggregate score" in passed.stdout
    assert "1 critical" in passed.stdout
    assert "PASSED: --fail-on none, findings do not block." in passed.stdout
    assert stored(live, report_id(passed.stdout))["critical_count"] == 1

    blocked = gate(live, "--frameworks", "iso42001,sr11_7")

    assert blocked.exit_code == 1, blocked.output
    assert "ACR-ANON-PULL" in blocked.stdout  # the failing checks table
    assert "crcbkmldev" in blocked.stdout
    last = blocked.stdout.strip().splitlines()[-1]
    assert last == "BLOCKED: 1 critical finding(s) at or above --fail-on critical."
    report_id(blocked.stdout)
    assert live.key not in blocked.output


def test_fail_on_high_counts_high_and_critical(live: Live) -> None:
    blocked = gate(live, "--frameworks", "sox", "--fail-on", "high", "--dry-run")
    assert blocked.exit_code == 1, blocked.output
    assert re.search(
        r"BLOCKED: \d+ critical, \d+ high finding\(s\) at or above --fail-on high\.", blocked.stdout
    )
    assert "Dry run: the report was not saved" in blocked.stdout


def test_sarif_junit_and_json_are_written_when_the_gate_blocks(live: Live, tmp_path: Path) -> None:
    sarif, junit, report = tmp_path / "t.sarif", tmp_path / "t.xml", tmp_path / "t.json"
    result = gate(
        live,
        "--frameworks",
        "iso42001,sr11_7",
        "--sarif",
        str(sarif),
        "--junit",
        str(junit),
        "--json",
        str(report),
    )
    assert result.exit_code == 1, result.output

    document = json.loads(sarif.read_text())
    jsonschema.Draft4Validator(sarif_schema()).validate(document)
    results = document["runs"][0]["results"]
    assert any(r["ruleId"] == "ACR-ANON-PULL" and r["level"] == "error" for r in results)
    suites = ET.parse(junit).getroot()
    assert [s.get("name") for s in suites] == ["iso42001", "sr11_7"]
    assert int(suites.get("failures", "0")) > 0
    assert "ACR-ANON-PULL crcbkmldev" in {c.get("name") for c in suites.iter("testcase")}
    # --json is the report as the API returned it, the one GET /report/{id} gives back.
    written = json.loads(report.read_text())
    assert written == stored(live, report_id(result.stdout))
    assert written["critical_count"] == 1


def test_an_unwritable_output_file_is_a_usage_error(live: Live, tmp_path: Path) -> None:
    result = gate(live, "--frameworks", "sr11_7", "--dry-run", "--sarif", str(tmp_path / "no/x"))
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ")
    assert "cannot be written" in result.stderr


# --- IaC ----------------------------------------------------------------------------------------


def test_a_terraform_plan_is_gated_before_deploy(
    live: Live, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    shutil.copy(TF_PLAN, tmp_path / "plan.json")
    passed = gate(live, "--iac", "plan.json", "--dry-run", "--json", "r.json", "--sarif", "p.sarif")
    assert passed.exit_code == 0, passed.output
    assert "PASSED: no finding at or above --fail-on critical." in passed.stdout
    report = json.loads((tmp_path / "r.json").read_text())
    assert (report["source"], report["dry_run"], report["critical_count"]) == ("terraform", True, 0)
    assert "report_id" not in report
    # SARIF results point at the plan gated, not at the request body.
    sarif = json.loads((tmp_path / "p.sarif").read_text())
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in sarif["runs"][0]["results"]
    }
    assert uris == {"plan.json"}

    blocked = gate(live, "--iac", "plan.json", "--dry-run", "--fail-on", "high")
    assert blocked.exit_code == 1, blocked.output
    assert "high finding(s) at or above --fail-on high" in blocked.stdout


def test_an_arm_template_is_gated_and_saved(live: Live) -> None:
    result = gate(live, "--iac", str(ARM_TEMPLATE), "--frameworks", "eu_ai_act")
    assert result.exit_code == 0, result.output
    report = stored(live, report_id(result.stdout))
    assert (report["source"], report["frameworks"]) == ("arm", ["eu_ai_act"])


# --- score drops --------------------------------------------------------------------------------


def test_max_score_drop_compares_with_the_previous_report_of_the_same_kind(live: Live) -> None:
    # Only this test gates on dora alone: the reports it compares are its own.
    first = gate(live, "--iac", str(TF_PLAN), "--frameworks", "dora", "--max-score-drop", "5")
    assert first.exit_code == 0, first.output
    assert "No previous report of the same kind" in first.stdout
    baseline = stored(live, report_id(first.stdout))

    # An ARM template is not compared with a Terraform plan.
    other = gate(live, "--iac", str(ARM_TEMPLATE), "--frameworks", "dora", "--max-score-drop", "0")
    assert other.exit_code == 0, other.output
    assert "No previous report of the same kind" in other.stdout

    with Session(live.url, live.key) as session:
        worse_score = session.scans.iac(TF_PLAN_WORSE, ["dora"], dry_run=True).aggregate_score
    assert baseline["aggregate_score"] is not None
    assert worse_score is not None
    drop = baseline["aggregate_score"] - worse_score
    assert drop > 0

    args = ("--iac", str(TF_PLAN_WORSE), "--frameworks", "dora", "--dry-run", "--max-score-drop")
    blocked = gate(live, *args, str(drop - 1))
    assert blocked.exit_code == 1, blocked.output
    assert (
        f"BLOCKED: the score fell {drop} points since {baseline['report_id']}, more than "
        f"--max-score-drop {drop - 1}." in blocked.stdout
    )
    passed = gate(live, *args, str(drop))
    assert passed.exit_code == 0, passed.output
    assert (
        f"Score fell {drop} points since {baseline['report_id']}: "
        f"{baseline['aggregate_score']} → {worse_score}/100 (--max-score-drop {drop})."
        in passed.stdout
    )


def test_max_score_drop_on_an_estate_that_got_worse(live: Live, tmp_path: Path) -> None:
    """The previous scan saw DEV with its critical misconfigurations fixed; now they are back."""
    with live.session() as session:
        try:
            session.snapshots.put(DEV, export(clean_records(sample_records(DEV))))
            before = gate(
                live, "--subscription", DEV, "--frameworks", "sr11_7", "--fail-on", "none"
            )
            assert before.exit_code == 0, before.output
        finally:
            session.snapshots.put(DEV, export(sample_records(DEV)))
    baseline = stored(live, report_id(before.stdout))

    after = tmp_path / "after.json"
    args = ("--subscription", DEV, "--frameworks", "sr11_7", "--dry-run", "--json", str(after))
    blocked = gate(live, *args, "--max-score-drop", "0")

    assert blocked.exit_code == 1, blocked.output
    old, new = baseline["aggregate_score"], json.loads(after.read_text())["aggregate_score"]
    assert old > new
    assert f"Score fell {old - new} points since {baseline['report_id']}: {old} → {new}/100." in (
        blocked.stdout
    )
    assert "1 critical finding(s) at or above --fail-on critical; the score fell" in blocked.stdout

    # Every linked subscription is another estate than DEV alone: not compared with it.
    others = gate(live, "--frameworks", "sr11_7", "--dry-run", "--max-score-drop", "0")
    assert baseline["report_id"] not in others.stdout


# --- labels -------------------------------------------------------------------------------------


CI_RUNS = {
    "GitHub Actions": (
        {
            "GITHUB_RUN_ID": "9876543210",
            "GITHUB_RUN_ATTEMPT": "2",
            "GITHUB_REPOSITORY": "acme/infra",
            "GITHUB_REF_NAME": "main",
        },
        "github-actions:acme/infra run 9876543210 attempt 2 (main)",
    ),
    "GitLab CI": (
        {
            "CI_PIPELINE_ID": "1234",
            "CI_JOB_ID": "5678",
            "CI_PROJECT_PATH": "acme/infra",
            "CI_COMMIT_REF_NAME": "feature/x",
        },
        "gitlab-ci:acme/infra pipeline 1234 job 5678 (feature/x)",
    ),
    "Azure Pipelines": (
        {"BUILD_BUILDID": "321", "BUILD_BUILDNUMBER": "20261123.4"},
        "azure-pipelines build 321 #20261123.4",
    ),
}


@pytest.mark.parametrize("ci", list(CI_RUNS))
def test_the_ci_run_becomes_the_stored_reports_label(live: Live, ci: str) -> None:
    env, label = CI_RUNS[ci]
    result = gate(live, "--iac", str(ARM_TEMPLATE), "--frameworks", "sox", **env)
    assert result.exit_code == 0, result.output
    assert f"Label {label} (detected from {ci})" in result.stdout
    report = report_id(result.stdout)
    assert stored(live, report)["scan_label"] == label
    with live.session() as session:
        listed = next(s for s in session.reports.list() if s.report_id == report)
    assert listed.label == label


def test_an_explicit_label_wins_and_outside_ci_there_is_none(live: Live) -> None:
    env = CI_RUNS["GitHub Actions"][0]
    chosen = gate(
        live, "--iac", str(ARM_TEMPLATE), "--frameworks", "sox", "--label", "rel-7", **env
    )
    assert stored(live, report_id(chosen.stdout))["scan_label"] == "rel-7"
    plain = gate(live, "--iac", str(ARM_TEMPLATE), "--frameworks", "sox")
    assert "· no label" in plain.stdout
    assert stored(live, report_id(plain.stdout))["scan_label"] is None


def test_ci_label_keeps_what_is_known_and_fits_the_apis_limit() -> None:
    assert ci_label({}) is None
    assert ci_label({"GITHUB_RUN_ID": "7"}) == ("github-actions run 7", "GitHub Actions")
    assert ci_label({"CI_JOB_ID": "9"}) == ("gitlab-ci job 9", "GitLab CI")
    long = ci_label({"BUILD_BUILDID": "1", "BUILD_REPOSITORY_NAME": "r" * 300})
    assert long is not None
    assert len(long[0]) == 200


# --- failing closed -----------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@dataclass(frozen=True)
class Failure:
    args: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    expected: str = ""


def _failures(live: Live, tmp_path: Path) -> dict[str, Failure]:
    (tmp_path / "tfplan").write_bytes(b"PK\x03\x04 a binary plan")
    port = _closed_port()
    # A key of the right shape whose checksum is wrong: the server refuses it.
    bad_key = live.key[:-4] + ("AAAA" if not live.key.endswith("AAAA") else "BBBB")
    return {
        "bad key": Failure((), {"TUTELA_API_KEY": bad_key}, "the API refused the key (401): "),
        "unreachable": Failure(
            (),
            {"TUTELA_URL": f"http://127.0.0.1:{port}"},
            f"cannot reach http://127.0.0.1:{port}: connection refused",
        ),
        "no key": Failure((), {"TUTELA_API_KEY": ""}, "no API key: set TUTELA_API_KEY"),
        "no url": Failure((), {"TUTELA_URL": ""}, "no API URL: pass --url or set TUTELA_URL"),
        "missing iac file": Failure(("--iac", "nowhere.json"), {}, "nowhere.json: cannot be read"),
        "binary plan": Failure(("--iac", "tfplan"), {}, "tfplan: not a JSON document"),
        "unknown framework": Failure(
            ("--frameworks", "iso42001,nope"),
            {},
            "the API rejected the request (422): frameworks: Not a framework id: frameworks[1];",
        ),
        "not the API": Failure(
            (), {"TUTELA_URL": live.url + "/nothing"}, "(404 Not Found): is --url right?"
        ),
    }


FAILURES = (
    "bad key",
    "unreachable",
    "no key",
    "no url",
    "missing iac file",
    "binary plan",
    "unknown framework",
    "not the API",
)


@pytest.mark.parametrize("case", FAILURES)
def test_no_report_means_exit_2_and_one_line_never_a_pass(
    live: Live, tmp_path: Path, case: str
) -> None:
    failure = _failures(live, tmp_path)[case]
    env = live.env(**failure.env)
    done = gate_process(*failure.args, env=env, cwd=tmp_path)

    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ")
    assert failure.expected in lines[0], lines[0]
    assert "Traceback" not in done.stdout + done.stderr
    assert "PASSED" not in done.stdout
    for key in {live.key, env["TUTELA_API_KEY"]} - {""}:
        assert key not in done.stdout + done.stderr


def _key_with(live: Live, *scopes: str) -> str:
    response = httpx.post(
        f"{live.url}/api-keys",
        headers={"X-API-Key": live.key},
        json={"name": "-".join(scopes), "scopes": list(scopes), "expires_in_days": 1},
    )
    assert response.status_code == 201, response.text
    key: str = response.json()["key"]
    return key


def test_a_403_is_a_failure_before_and_after_the_scan(live: Live, tmp_path: Path) -> None:
    reader = _key_with(live, "report:read")
    refused = gate_process(
        "--frameworks", "sr11_7", env=live.env(TUTELA_API_KEY=reader), cwd=tmp_path
    )
    assert refused.returncode == 2
    assert refused.stderr.startswith(
        "error: the API denied the request (403): API key lacks the required scope: scan:run"
    )
    # A key that may scan but not read reports cannot find the previous report: not a pass.
    scanner = _key_with(live, "scan:run")
    env = live.env(TUTELA_API_KEY=scanner)
    args = ("--frameworks", "sr11_7", "--fail-on", "none", "--max-score-drop", "3")
    blind = gate_process(*args, env=env, cwd=tmp_path)
    assert blind.returncode == 2, blind.stdout
    assert re.fullmatch(
        r"error: the API denied the request \(403\): API key lacks the required scope: "
        r"report:read \(while looking for the previous report; this scan was saved as "
        r"COMP-\d{8}-\d{6}(-\d+)?\)\n",
        blind.stderr,
    )
    assert scanner not in blind.stdout + blind.stderr


def test_help_and_usage_errors_never_show_the_key(live: Live) -> None:
    helped = gate(live, "--help")
    assert helped.exit_code == 0
    assert "--max-score-drop" in helped.stdout
    assert live.key not in helped.output
    wrong = gate(live, "--fail-on", "severe")
    assert wrong.exit_code == 2
    assert live.key not in wrong.output
    both = gate(live, "--iac", str(ARM_TEMPLATE), "--subscription", DEV)
    assert both.exit_code == 2
    assert "--subscription applies to estate scans" in both.stderr


# --- the example pipelines ----------------------------------------------------------------------


@dataclass
class Step:
    """The commands of one CI step that call ``tutela gate``, and where and with what they run."""

    commands: list[str]
    env: dict[str, str]
    workdir: str = "."


def gate_commands(script: str) -> list[str]:
    """The script's ``tutela gate`` commands, continuation lines joined."""
    lines = script.replace("\\\n", " ").splitlines()
    return [line.strip() for line in lines if line.strip().startswith("tutela gate")]


GITHUB_EXPRESSION = re.compile(
    r"\$\{\{\s*github\.event_name == '(\w+)' && '([^']*)' \|\| '([^']*)'\s*\}\}"
)


def github_steps(document: dict[str, Any], live: Live, event: str) -> list[Step]:
    """Each ``run:``, ``${{ }}`` evaluated as Actions would on ``event``, secrets the live ones."""

    def evaluate(value: str) -> str | None:
        value = value.replace("${{ vars.TUTELA_URL }}", live.url)
        value = value.replace("${{ secrets.TUTELA_API_KEY }}", live.key)
        value = GITHUB_EXPRESSION.sub(lambda m: m[2] if m[1] == event else m[3], value)
        return None if "${{" in value else value  # e.g. the Azure ids Terraform needs

    def resolved(block: Mapping[str, str]) -> dict[str, str]:
        pairs = ((name, evaluate(str(value))) for name, value in block.items())
        return {name: value for name, value in pairs if value is not None}

    steps = []
    for job in document["jobs"].values():
        for step in job["steps"]:
            if "run" in step and gate_commands(step["run"]):
                env = {**resolved(document["env"]), **resolved(job.get("env", {}))}
                env.update(resolved(step.get("env", {})))
                commands = gate_commands(step["run"])
                steps.append(Step(commands, env, step.get("working-directory", ".")))
    return steps


def gitlab_steps(document: dict[str, Any], live: Live) -> list[Step]:
    """Each job's ``script:``, as on the default branch (whose rule sets no GATE_FLAGS)."""
    return [
        Step(gate_commands("\n".join(job["script"])), live.env())
        for job in document.values()
        if isinstance(job, dict) and gate_commands("\n".join(job.get("script", [])))
    ]


def azure_steps(document: dict[str, Any], live: Live) -> list[Step]:
    """Each ``script:`` step, its ``$(macros)`` expanded as for a build of main."""
    macros = {"TUTELA_URL": live.url, "TUTELA_API_KEY": live.key, "GATE_FLAGS": ""}

    def expand(text: str) -> str:
        return re.sub(r"\$\((\w+)\)", lambda m: macros[m[1]], text)

    return [
        Step(
            gate_commands(expand(step["script"])),
            {name: expand(str(value)) for name, value in step.get("env", {}).items()},
        )
        for step in document["steps"]
        if "script" in step and gate_commands(step["script"])
    ]


def _option(command: str, name: str) -> str | None:
    found = re.search(rf"{name} (\S+)", command)
    return found[1] if found else None


def run_step(step: Step, root: Path, ci_env: dict[str, str]) -> list[tuple[str, Path, int, str]]:
    """Run each gate command with bash as the CI would; (command, workdir, exit code, stdout)."""
    workdir = root / step.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    results = []
    for command in step.commands:
        plan = _option(command, "--iac")
        if plan:  # what `terraform show -json tfplan > plan.json` wrote, in the plan job
            (workdir / plan).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(TF_PLAN, workdir / plan)
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", command],
            env={
                "PATH": f"{SCRIPT.parent}{os.pathsep}{os.environ['PATH']}",
                "LANG": "C.UTF-8",
                **ci_env,
                **step.env,
            },
            cwd=workdir,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert "Traceback" not in done.stderr, done.stderr
        results.append((command, workdir, done.returncode, done.stdout))
    return results


PIPELINES = {
    "github-actions": (
        "github-actions/tutela-gate.yml",
        {"GITHUB_RUN_ID": "77", "GITHUB_REPOSITORY": "acme/infra"},
    ),
    "gitlab-ci": ("gitlab-ci/.gitlab-ci.yml", {"CI_PIPELINE_ID": "88", "CI_JOB_ID": "89"}),
    "azure-pipelines": ("azure-pipelines/azure-pipelines.yml", {"BUILD_BUILDID": "99"}),
}


@pytest.mark.parametrize("pipeline", list(PIPELINES))
def test_the_example_pipelines_gate_steps_run_as_written(
    live: Live, tmp_path: Path, pipeline: str
) -> None:
    """The steps' ``tutela gate`` commands, verbatim, with the live server as the CI's secrets.

    Not run: ``pip install "$TUTELA_PACKAGE"`` (this checkout is installed), ``terraform`` (the
    plan fixture stands in for ``terraform show -json``'s output), and the steps that are the
    CI's own actions or tasks (``github/codeql-action/upload-sarif``, ``actions/upload-artifact``,
    GitLab's ``artifacts:reports:junit``, ``PublishTestResults@2``): their settings are checked
    instead.
    GitHub's steps run as on a pull request (``--dry-run``), the others as on the main branch.
    """
    path, ci_env = PIPELINES[pipeline]
    text = (EXAMPLES / path).read_text()
    document = yaml.safe_load(text)
    assert "TUTELA_API_KEY" in text
    assert not KEY.search(text)  # secrets come from the CI's store
    if pipeline == "github-actions":
        steps = github_steps(document, live, event="pull_request")
    elif pipeline == "gitlab-ci":
        steps = gitlab_steps(document, live)
    else:
        steps = azure_steps(document, live)
    commands = [c for s in steps for c in s.commands]
    assert len(commands) == 2, commands  # the estate and the Terraform plan
    assert any("--iac" in c for c in commands)
    _check_ci_settings(pipeline, document)

    for step in steps:
        assert step.env["TUTELA_URL"] == live.url
        assert step.env["TUTELA_API_KEY"] == live.key
        for command, workdir, code, stdout in run_step(step, tmp_path, ci_env):
            # The demo estate has a critical finding; the plan fixture, high ones (--fail-on high).
            assert code == 1, (command, stdout)
            assert stdout.strip().splitlines()[-1].startswith("BLOCKED: ")
            assert live.key not in stdout
            if sarif := _option(command, "--sarif"):
                jsonschema.Draft4Validator(sarif_schema()).validate(
                    json.loads((workdir / sarif).read_text())
                )
            if junit := _option(command, "--junit"):
                suites = ET.parse(workdir / junit).getroot()
                assert int(suites.get("failures", "0")) > 0
            if report := _option(command, "--json"):
                written = json.loads((workdir / report).read_text())
                assert written["critical_count"] == 1
                assert written["scan_label"].startswith(pipeline)
                assert ("report_id" in written) is (pipeline != "github-actions")


def _check_ci_settings(pipeline: str, document: dict[str, Any]) -> None:
    """The CI's own steps that publish the results run when the gate blocks, too."""
    if pipeline == "github-actions":
        for job in document["jobs"].values():
            assert job["permissions"]["security-events"] == "write"
            uploads = [s for s in job["steps"] if "upload-sarif" in s.get("uses", "")]
            assert uploads
            assert all(s["if"].startswith("always()") for s in uploads)
    elif pipeline == "gitlab-ci":
        gates = [
            j
            for j in document.values()
            if isinstance(j, dict) and "tutela gate" in str(j.get("script"))
        ]
        for job in gates:
            assert job["artifacts"]["when"] == "always"
            assert job["artifacts"]["reports"]["junit"]
    else:
        publish = [s for s in document["steps"] if s.get("task") == "PublishTestResults@2"]
        assert len(publish) == 2
        for step in publish:
            assert step["condition"] == "succeededOrFailed()"
            assert step["inputs"]["testResultsFormat"] == "JUnit"


def test_a_short_key_in_an_error_is_redacted_whole_not_spelled_out(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A key replaced wherever its characters occurred marked them out in every id."""
    from tutela.cli.gate import _fail

    guid = "3fab5f64-5717-4562-b3fc-2c963f66abab"
    _fail(f"tenant {guid} refused the key ab (\x1b[31mred\x1b[0m)", "ab")
    assert capsys.readouterr().err == f"error: tenant {guid} refused the key [redacted] (red)\n"
