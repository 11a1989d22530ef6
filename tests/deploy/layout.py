"""The deployment files as data: deploy/compose.yaml with an operator's variables filled in as
Compose fills them, the Dockerfile's instructions, and the environment and command a container
of a service would get (the image's ENV and ENTRYPOINT, then the service's own)."""

from __future__ import annotations

import re
import sys
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from dockerfile_parse import DockerfileParser

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "deploy" / "compose.yaml"
CADDYFILE = ROOT / "deploy" / "Caddyfile"
ENV_EXAMPLE = ROOT / "deploy" / ".env.example"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
TUTELA = str(Path(sys.executable).with_name("tutela"))

# What an operator's deploy/.env holds (the variables deploy/.env.example names).
OPERATOR_ENV = {
    "TUTELA_DOMAIN": "tutela.example.com",
    "ACME_EMAIL": "ops@example.com",
    "POSTGRES_PASSWORD": "a-password-for-tests",
}

# Compose's interpolation: $$, ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ...
_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\})"
)
# http://127.0.0.1:PORT/path, the port given or built from TUTELA_PORT: the path.
_HEALTH_URL = re.compile(r"http://127\.0\.0\.1:[^/]*?(/[A-Za-z][A-Za-z0-9/_.-]*)")


class MissingVariable(ValueError):
    """A ${NAME:?message} variable is unset, as `docker compose` would refuse it."""


def interpolate(text: str, env: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name, op, arg = match["name"], match["op"], match["arg"] or ""
        current = env.get(name)
        unset = current is None or (op is not None and op.startswith(":") and current == "")
        if op in (":?", "?") and unset:
            raise MissingVariable(f"{name}: {arg}")
        if op in (":-", "-") and unset:
            return arg
        return current or ""

    return _VARIABLE.sub(value, text)


def variables(text: str) -> set[str]:
    """The names a text refers to as ${NAME…}."""
    return {match["name"] for match in _VARIABLE.finditer(text) if match["name"]}


def _filled(node: Any, env: dict[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, dict):
        return {key: _filled(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [_filled(item, env) for item in node]
    return node


def compose(env: dict[str, str] | None = None) -> dict[str, Any]:
    """deploy/compose.yaml as `docker compose config` would see it (anchors merged, variables
    filled in from ``env``, the operator's .env by default)."""
    document = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    filled: dict[str, Any] = _filled(document, OPERATOR_ENV if env is None else env)
    return filled


def service(name: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    found: dict[str, Any] = compose(env)["services"][name]
    return found


def tutela_services(env: dict[str, str] | None = None) -> dict[str, dict[str, Any]]:
    """The services that run the Tutela image (built from the Dockerfile)."""
    return {name: s for name, s in compose(env)["services"].items() if "build" in s}


@cache
def dockerfile() -> DockerfileParser:
    return DockerfileParser(str(DOCKERFILE))


def stages() -> list[list[dict[str, Any]]]:
    """The Dockerfile's instructions, one list per stage (FROM first)."""
    found: list[list[dict[str, Any]]] = []
    for instruction in dockerfile().structure:
        if instruction["instruction"] == "FROM":
            found.append([])
        if found and instruction["instruction"] != "COMMENT":
            found[-1].append(instruction)
    return found


def image_environment() -> dict[str, str]:
    """The ENV of the final stage that a process of the image sees (PATH aside)."""
    return {k: v for k, v in dockerfile().envs.items() if k != "PATH"}


def entrypoint() -> list[str]:
    [value] = [i["value"] for i in stages()[-1] if i["instruction"] == "ENTRYPOINT"]
    parsed: list[str] = yaml.safe_load(value)  # the exec (JSON) form
    return parsed


def container_environment(service_name: str, env: dict[str, str] | None = None) -> dict[str, str]:
    """What a container of the service gets: the image's ENV, then the service's."""
    values = image_environment()
    values.update({k: str(v) for k, v in service(service_name, env)["environment"].items()})
    return values


def container_command(service_name: str, env: dict[str, str] | None = None) -> list[str]:
    """ENTRYPOINT + the service's command, with this environment's console script."""
    [program, *arguments] = entrypoint()
    assert program == "tutela", program
    return [TUTELA, *arguments, *service(service_name, env)["command"]]


def health_path(command: list[str] | str) -> str:
    """The path a healthcheck command asks for (http://127.0.0.1:PORT/<path>)."""
    text = command if isinstance(command, str) else " ".join(command)
    match = _HEALTH_URL.search(text)
    assert match, f"no http://127.0.0.1 URL in the healthcheck {text!r}"
    return match[1]


def healthcheck_of_image() -> list[str]:
    [value] = [i["value"] for i in stages()[-1] if i["instruction"] == "HEALTHCHECK"]
    exec_form = value[value.index("CMD") + 3 :].strip()
    parsed: list[str] = yaml.safe_load(exec_form)
    return parsed
