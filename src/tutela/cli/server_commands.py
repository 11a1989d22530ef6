"""Commands that run or administer the platform: serve, db, admin, keys (server extra)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Column, Table

from tutela.cli.errors import CliError, fail, one_line_errors
from tutela.cli.text import shown

if TYPE_CHECKING:
    from fastapi import FastAPI
    from sqlalchemy.orm import Session

    from tutela.server.keys.service import IssuedKey
    from tutela.server.runtime import Runtime

console = Console(highlight=False, soft_wrap=True)

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
admin_app = typer.Typer(help="Operate tenants.", no_args_is_help=True)
keys_app = typer.Typer(help="Operators' API key management.", no_args_is_help=True)
reports_app = typer.Typer(help="Saved reports.", no_args_is_help=True)

CLI_ACTOR = "tutela CLI (operator)"


def _runtime(migrate: bool = True) -> Runtime:
    from tutela.server.config import load_settings
    from tutela.server.migrate import upgrade
    from tutela.server.runtime import Runtime

    settings = load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if migrate:
        upgrade(settings.resolved_database_url)
    return Runtime.start(settings)


@contextmanager
def _unit_of_work() -> Iterator[tuple[Runtime, Session]]:
    from tutela.server.db import transaction

    runtime = _runtime()
    try:
        with transaction(runtime.sessions) as session:
            yield runtime, session
    finally:
        runtime.close()


def _portal_invitation(session: Session, runtime: Runtime, issued: IssuedKey) -> str:
    """A one-time link for the demo owner to choose a password (an invitation, as the portal
    sends one to a new person), valid ``TUTELA_INVITATION_DAYS``."""
    import datetime as dt

    from tutela.server.auth import links
    from tutela.server.tenants.models import User

    owner = session.get(User, issued.key.user_id)
    assert owner is not None
    link = links.issue(
        session,
        owner,
        links.INVITATION,
        lifetime=dt.timedelta(days=runtime.settings.invitation_days),
        created_by="tutela (first start)",
    )
    return link.url(runtime.settings.resolved_public_url, links.INVITATION)


def _show_secret(label: str, secret: str) -> None:
    console.print(f"{label} (shown once; store it now):")
    console.print(f"  {secret}", style="bold green")


@one_line_errors
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (TUTELA_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (TUTELA_PORT).")] = None,
    demo: Annotated[
        bool, typer.Option("--demo", help="Create the demo tenant on first start.")
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1, max=64, help="Processes (TUTELA_WORKERS), one per CPU core at most; default 1."
        ),
    ] = None,
) -> None:
    """Migrate the database and serve the API (and, with --demo, the demo tenant)."""
    import os

    import uvicorn

    from tutela.server.admin.service import DEMO_OWNER_EMAIL, ensure_demo_tenant
    from tutela.server.app import create_app
    from tutela.server.db import transaction

    runtime = _runtime()
    settings = runtime.settings
    processes = workers or settings.workers
    if processes > 1 and os.name != "posix":
        raise fail("--workers above 1 needs a POSIX system (the workers elect one by flock)", 2)
    if processes > 1 and settings.metrics_port is not None:
        raise fail(
            "--workers above 1 with TUTELA_METRICS_PORT: each process needs a metrics port of "
            "its own; run one worker per process (as docs/production.md does) to keep metrics",
            2,
        )
    if demo:
        with transaction(runtime.sessions) as session:
            tenant, issued = ensure_demo_tenant(
                session, runtime.key_policy(), runtime.catalog, platform_keys=runtime.platform_keys
            )
            tenant_id = tenant.id
            invitation = _portal_invitation(session, runtime, issued) if issued else None
        if issued is not None:
            console.print(f"Demo tenant {tenant_id} created (plan: enterprise).")
            _show_secret(f"API key of its owner {DEMO_OWNER_EMAIL}", issued.secret)
            if invitation is not None:
                _show_secret(
                    "The portal: open this link to choose the owner's password and sign in",
                    invitation,
                )
        else:
            console.print(
                f"Demo tenant {tenant_id} already exists; its owner's key was shown at first "
                "start. For a new key: "
                f"tutela keys create --tenant {tenant_id} --email {DEMO_OWNER_EMAIL}"
            )
    bind_host, bind_port = host or settings.host, port or settings.port
    console.print(
        f"Serving on http://{bind_host}:{bind_port}  (docs: http://{bind_host}:{bind_port}/api-docs)"
        + (f" with {processes} worker processes" if processes > 1 else "")
    )
    if processes > 1:  # each worker makes its own app from the environment
        runtime.close()
        os.environ["TUTELA_WORKERS"] = str(processes)  # (the apps then elect a jobs runner)
        app: str | FastAPI = "tutela.server.app:create_app"
    else:
        app = create_app(settings, runtime)
    uvicorn.run(
        app,
        factory=processes > 1,
        workers=processes,
        host=bind_host,
        port=bind_port,
        log_level=settings.log_level.lower(),
        # The caller's address and scheme from X-Forwarded-* only behind these proxies.
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        # Our own request log replaces uvicorn's: it adds the correlation id and key prefix,
        # and leaves out query strings, which may carry one-time tokens.
        access_log=False,
        # JSON lines: uvicorn's own loggers stay on our handler (configure_logging).
        log_config=None if settings.log_format == "json" else uvicorn.config.LOGGING_CONFIG,
    )


@db_app.command("upgrade")
@one_line_errors
def db_upgrade() -> None:
    """Apply every pending migration."""
    from tutela.server.config import load_settings
    from tutela.server.migrate import current_revision, upgrade

    settings = load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url)
    console.print(f"Database at revision {current_revision(settings.resolved_database_url)}.")


@db_app.command("backup")
@one_line_errors
def db_backup(
    destination: Annotated[
        Path, typer.Argument(help="A new or empty folder to write the backup into.")
    ],
) -> None:
    """Back up the embedded (SQLite) database online, with the platform key file."""
    from tutela.server.backup import BackupError, backup
    from tutela.server.config import load_settings

    try:
        manifest = backup(load_settings(), destination)
    except BackupError as exc:
        raise CliError(str(exc)) from None
    console.print(f"Backup written to {destination} (schema revision {manifest.revision}).")
    if not manifest.platform_key:
        console.print(
            "The platform key is not in it (TUTELA_PLATFORM_KEY is set): keep that key with "
            "the backup, or its reports cannot be read."
        )


@db_app.command("restore")
@one_line_errors
def db_restore(
    source: Annotated[Path, typer.Argument(help="A folder written by tutela db backup.")],
    force: Annotated[
        bool, typer.Option("--force", help="Replace an existing database and key file.")
    ] = False,
) -> None:
    """Restore a backup as this platform's database (stop the platform first)."""
    from tutela.server.backup import BackupError, restore
    from tutela.server.config import load_settings

    try:
        manifest = restore(load_settings(), source, force=force)
    except BackupError as exc:
        raise CliError(str(exc)) from None
    console.print(f"Restored the backup of {manifest.created_at}; schema up to date.")


@db_app.command("rotate-platform-key")
@one_line_errors
def db_rotate_platform_key(
    batch_size: Annotated[
        int, typer.Option(min=1, help="Data keys re-wrapped per committed batch.")
    ] = 500,
    grace_seconds: Annotated[
        float,
        typer.Option(
            min=0,
            help="How long after the switch the old version is kept at least, for answers "
            "sealed just before it.",
        ),
    ] = 30.0,
) -> None:
    """Rotate the platform key that wraps documents' data keys, or resume an interrupted rotation.

    A new version becomes current; every data key sealed under the old one is re-wrapped under
    it (no document is re-encrypted); the old version is retired once no row names it. Servers
    may keep running. Interrupted, it loses nothing: run it again to resume.
    """
    from tutela.server.encryption.platform_keys import ORIGINAL
    from tutela.server.encryption.rotation import rotate

    runtime = _runtime()
    try:
        with _rewrap_progress() as progress:
            try:
                rotation = rotate(
                    runtime,
                    batch_size=batch_size,
                    grace_seconds=grace_seconds,
                    progress=progress,
                    sleep=_grace,
                )
            except KeyboardInterrupt:
                raise fail(
                    "interrupted: the batches re-wrapped so far are kept; run "
                    "`tutela db rotate-platform-key` again to resume",
                    130,
                ) from None
    finally:
        runtime.close()
    began = "Rotated" if rotation.started else "Resumed the rotation"
    console.print(f"{began}: platform key {rotation.key_id} is current.")
    counts = ", ".join(f"{table} {count:,}" for table, count in rotation.rewrapped.items())
    total = sum(rotation.rewrapped.values())
    console.print(f"Re-wrapped {total:,} data key(s) ({counts}); no document was re-encrypted.")
    for version in rotation.retired:
        erased = (
            "it is derived from the root key file, so nothing stored is left to erase"
            if version == ORIGINAL
            else "its stored material is erased"
        )
        console.print(f"Retired platform key {version}: {erased}.")
    if rotation.kept:
        rows = "; ".join(
            f"{table} {', '.join(keys)}" for table, keys in rotation.unreadable.items()
        )
        raise fail(
            f"kept platform key {', '.join(rotation.kept)}: rows still name it that it does not "
            f"open ({rows or 'written during the run; run it again'})"
        )


def _grace(seconds: float) -> None:
    import time

    from tutela.cli.errors import err_console

    err_console.print(
        f"Keeping the old version {seconds:.0f} s more, for answers sealed just before the switch."
    )
    time.sleep(seconds)


@contextmanager
def _rewrap_progress() -> Iterator[Callable[[str, int, int], None] | None]:
    """A bar per table on a terminal's stderr; nothing when stderr is not a terminal."""
    from rich.progress import BarColumn, Progress, TaskID, TaskProgressColumn, TextColumn

    from tutela.cli.errors import err_console

    if not err_console.is_terminal:
        yield None
        return
    with Progress(
        TextColumn("Re-wrapping {task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        console=err_console,
        transient=True,
    ) as bars:
        tasks: dict[str, TaskID] = {}

        def advance(table: str, done: int, total: int) -> None:
            if table not in tasks:
                tasks[table] = bars.add_task(table, total=total)
            bars.update(tasks[table], completed=done, total=total)

        yield advance


@db_app.command("check-encryption")
@one_line_errors
def db_check_encryption(
    verify: Annotated[
        bool,
        typer.Option(
            "--verify",
            help="Also unwrap every platform-key data key (not the bodies) and list the rows "
            "whose own key does not open them.",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Rows per encryption mode and key in every sealed table, and the platform key's versions.

    Exits 1 when a row names a retired or unknown platform key, or (with --verify) a data key
    does not unwrap.
    """
    import orjson

    from tutela.server.db import transaction
    from tutela.server.encryption.rotation import TABLES, census, unopenable

    runtime = _runtime()
    try:
        with transaction(runtime.sessions, readonly=True) as session:
            found = census(session)
        broken = unopenable(runtime) if verify else {}
    finally:
        runtime.close()
    stranded = [count for count in found.keys if not count.readable and any(count.rows.values())]
    if as_json:
        document = {
            "keys": [
                {"mode": c.mode, "key": c.key, "state": c.state, "rows": c.rows} for c in found.keys
            ],
            "platform_key_versions": [
                {
                    "id": v.id,
                    "state": v.state,
                    "created_at": v.created_at.isoformat(),
                    "replaced_at": v.replaced_at.isoformat() if v.replaced_at else None,
                    "retired_at": v.retired_at.isoformat() if v.retired_at else None,
                }
                for v in found.versions
            ],
        }
        if verify:
            document["unopenable"] = broken
        typer.echo(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode())
    else:
        table = Table("Mode", "Key", "State", *(Column(t.name, justify="right") for t in TABLES))
        for count in found.keys:
            table.add_row(
                count.mode,
                shown(count.key),
                count.state,
                *(f"{count.rows[t.name]:,}" for t in TABLES),
            )
        console.print(table)
        if verify:
            opened = "every platform-key data key unwraps" if not broken else "unwrap failures:"
            console.print(f"Verified: {opened}")
            for name, rows in broken.items():
                console.print(f"  {name}: {', '.join(rows)}")
    if stranded or broken:
        named = ", ".join(f"{count.key} ({count.state})" for count in stranded)
        raise fail(
            (f"rows name a retired or unknown platform key: {named}" if stranded else "")
            + ("; " if stranded and broken else "")
            + (f"{sum(map(len, broken.values())):,} data key(s) do not unwrap" if broken else "")
        )


@admin_app.command("create-tenant")
@one_line_errors
def create_tenant(
    email: Annotated[str, typer.Option(help="The owner's email.")],
    plan: Annotated[
        str | None,
        typer.Option(
            help="free_trial, starter, professional or enterprise; default: the default_plan "
            "platform setting."
        ),
    ] = None,
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
) -> None:
    """Create a tenant and its owner; prints the owner's API key once."""
    from tutela.server.admin.schemas import TenantCreate
    from tutela.server.admin.service import create_tenant as create

    body = _validated(TenantCreate, owner_email=email, plan=plan, name=name)
    with _unit_of_work() as (runtime, session):
        created = create(
            session,
            runtime.key_policy(),
            runtime.catalog,
            actor=CLI_ACTOR,
            owner_email=str(body.owner_email),
            plan=runtime.live.current().values.default_plan if body.plan is None else body.plan,
            name=body.name,
        )
        tenant_id, secret = created.tenant.id, created.owner_key.secret
        plan = created.tenant.plan
    console.print(f"Tenant {tenant_id} created (plan: {plan}).")
    _show_secret(f"API key of its owner {shown(email)}", secret)


class NewUserRole(StrEnum):
    """Roles an operator gives a new user (each tenant has its one owner from create-tenant)."""

    member = "member"
    auditor = "auditor"
    admin = "admin"


@admin_app.command("add-user")
@one_line_errors
def add_user(
    tenant: Annotated[str, typer.Option(help="The tenant's id.")],
    email: Annotated[str, typer.Option(help="The new user's email.")],
    role: Annotated[NewUserRole, typer.Option(help="The user's role in the tenant.")],
) -> None:
    """Add a user to a tenant (audit-logged); prints the user's first key once.

    For a pipeline, then give the user a key with only what it needs:
    `tutela keys create --tenant ID --email E --scopes scan:run,report:read`.
    """
    from tutela.server.admin.schemas import UserCreate
    from tutela.server.admin.service import add_user as add

    body = _validated(UserCreate, email=email, role=role.value)
    with _unit_of_work() as (runtime, session):
        created = add(
            session,
            runtime.key_policy(),
            actor=CLI_ACTOR,
            tenant_id=tenant,
            email=str(body.email),
            role=body.role,
        )
        user_id, secret = created.user.id, created.key.secret
    console.print(f"User {user_id} ({role.value}) added to tenant {shown(tenant)}.")
    _show_secret(f"First API key of {shown(email)}, with every {role.value} scope", secret)


def _validated(model: type, **values: object):  # type: ignore[no-untyped-def]
    from pydantic import ValidationError

    try:
        return model(**{k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:
        error = exc.errors()[0]
        raise CliError(f"{'.'.join(map(str, error['loc']))}: {error['msg']}") from None


def _owner(session: Session, operator: str | None, tenant: str | None, email: str | None):  # type: ignore[no-untyped-def]
    from tutela.server.admin.service import ensure_operator
    from tutela.server.tenants.repository import UserRepository

    if operator and (tenant or email):
        raise CliError("give either --operator EMAIL or --tenant ID --email EMAIL, not both")
    if operator:
        return ensure_operator(session, actor=CLI_ACTOR, email=operator)
    if not (tenant and email):
        raise CliError("give --operator EMAIL, or --tenant ID and --email EMAIL")
    user = UserRepository(session).find_by_email(tenant, email)
    if user is None:
        raise CliError(f"no user {email} in tenant {tenant}")
    return user


@keys_app.command("create")
@one_line_errors
def keys_create(
    operator: Annotated[
        str | None, typer.Option(help="Create an operator (admin:*) key for this email.")
    ] = None,
    tenant: Annotated[str | None, typer.Option(help="Tenant id of the key's owner.")] = None,
    email: Annotated[str | None, typer.Option(help="Email of the key's owner in --tenant.")] = None,
    name: Annotated[str, typer.Option(help="A name to recognise the key by.")] = "cli key",
    scopes: Annotated[
        str | None, typer.Option(help="Comma-separated scopes; default: all of the owner's role.")
    ] = None,
    expires_in_days: Annotated[int | None, typer.Option(help="Days until expiry.")] = None,
) -> None:
    """Create a key for an operator or a tenant user; prints the secret once."""
    from tutela.server.auth.scopes import Scope, scopes_for_role
    from tutela.server.keys.service import issue_key

    with _unit_of_work() as (runtime, session):
        owner = _owner(session, operator, tenant, email)
        role_scopes = scopes_for_role(owner.role)
        if scopes:
            try:
                wanted = frozenset(Scope(s.strip()) for s in scopes.split(",") if s.strip())
            except ValueError as exc:
                raise CliError(f"unknown scope: {exc}") from None
        else:
            wanted = role_scopes
        issued = issue_key(
            session,
            runtime.key_policy(),
            owner=owner,
            name=name,
            scopes=wanted,
            granter_scopes=role_scopes,
            actor=CLI_ACTOR,
            expires_in_days=expires_in_days,
        )
        key_id, secret, expires = issued.key.id, issued.secret, issued.key.expires_at
    console.print(f"Key {key_id} for {shown(owner.email)}, expires {expires:%Y-%m-%d %H:%M} UTC.")
    _show_secret("Secret", secret)


@keys_app.command("list")
@one_line_errors
def keys_list(
    operator: Annotated[bool, typer.Option("--operators", help="List operators' keys.")] = False,
    tenant: Annotated[str | None, typer.Option(help="List this tenant's keys.")] = None,
) -> None:
    """List keys (never the secrets)."""
    from tutela.server.db import utcnow
    from tutela.server.keys.models import key_status
    from tutela.server.keys.repository import ApiKeyRepository

    if operator == bool(tenant):
        raise CliError("give exactly one of --operators or --tenant ID")
    with _unit_of_work() as (_runtime, session):
        keys = ApiKeyRepository(session).list_in_tenant(None if operator else tenant)
        now = utcnow()
        # The id (what `keys revoke` takes) is never shortened; beside it, a line each for the
        # name, the prefix and status, the dates and the scopes: readable at 80 columns.
        table = Table(
            Column("id", no_wrap=True, min_width=36),
            Column("key", overflow="fold"),
            box=box.SIMPLE_HEAD,
            show_edge=False,
            pad_edge=False,
        )
        for key in keys:
            used = (
                f"last used {key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never used"
            )
            # Names are chosen by tenant users: no escape sequence or markup reaches the terminal.
            table.add_row(
                key.id,
                f"{shown(key.name)}\n{key.prefix}… · {key_status(key, now)}\n"
                f"expires {key.expires_at:%Y-%m-%d} · {used}\n"
                f"[dim]{shown(', '.join(key.scopes))}[/]",
            )
    console.print(table)


@keys_app.command("revoke")
@one_line_errors
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (from `tutela keys list`).")],
    tenant: Annotated[
        str | None, typer.Option(help="The key's tenant; omit for operators.")
    ] = None,
) -> None:
    """Revoke a key; it stops working on its next request."""
    from tutela.server.keys.repository import ApiKeyRepository
    from tutela.server.keys.service import revoke

    with _unit_of_work() as (runtime, session):
        key = ApiKeyRepository(session).get_in_tenant(tenant, key_id)
        if key is None:
            raise CliError(
                f"no key {key_id} " + (f"in tenant {tenant}" if tenant else "among operators")
            )
        revoke(session, runtime.auth_cache, key, actor=CLI_ACTOR)
    console.print(f"Key {key_id} revoked.")


@reports_app.command("purge")
@one_line_errors
def reports_purge() -> None:
    """Delete reports past their plan's history window, in every tenant (the retention job)."""
    from tutela.server.db import utcnow
    from tutela.server.jobs.inprocess import run_job
    from tutela.server.jobs.registry import REPORTS_PURGE
    from tutela.server.jobs.registry import reports_purge as purge

    runtime = _runtime()
    try:
        result = run_job(runtime, REPORTS_PURGE, lambda: purge(runtime, utcnow()))
    finally:
        runtime.close()
    console.print(result.detail)
