"""All configuration, read once from ``TUTELA_*`` environment variables."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "TUTELA_"
LLM_API_VERSION = "2024-10-21"  # make_client's default (tutela.scanner.narrative.llm)


class SettingsError(ValueError):
    """A setting is invalid; the message is one line naming the environment variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="ignore", frozen=True, validate_default=True
    )

    data_dir: Path = Field(
        default=Path.home() / ".tutela",
        description="Where the SQLite database, the platform key file and the outbox live.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default is SQLite under data_dir. "
        "PostgreSQL: postgresql+psycopg://user@host:5432/db",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Processes `tutela serve` answers with (uvicorn's workers), one per CPU core "
        "at most: a scan is CPU-bound Python, one core per process. The in-process jobs run in "
        "one of them; rate limits are per process unless TUTELA_REDIS_URL is set.",
    )
    forwarded_allow_ips: str | None = Field(
        default=None,
        min_length=1,
        description="Addresses or networks (comma-separated, or *) of the reverse proxies whose "
        "X-Forwarded-For and X-Forwarded-Proto headers `tutela serve` believes; the caller's "
        "address (sign-in limits, audit) comes from them only behind one of these. Unset: "
        "uvicorn's FORWARDED_ALLOW_IPS, else 127.0.0.1 and ::1.",
    )
    redis_url: str | None = Field(
        default=None,
        description="redis://… shares rate limits between API processes; with "
        "TUTELA_JOB_BACKEND=celery it is also the job broker.",
    )
    platform_key_file: Path | None = Field(
        default=None,
        description="File holding the platform master key; default data_dir/platform.key.",
    )
    platform_key: SecretStr | None = Field(
        default=None,
        description="The platform master key itself (base64 of 32 bytes), instead of a file.",
    )
    key_expiry_default_days: int = Field(default=30, ge=1)
    key_expiry_max_days: int = Field(default=365, ge=1)
    key_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        description="How long a verified key is cached in one process; a revocation, role, "
        "suspension or plan change reaches every process at once regardless (the auth epoch).",
    )
    settings_refresh_seconds: float = Field(
        default=2.0,
        ge=0,
        le=300,
        description="How often each process re-reads the platform settings operators change "
        "at run time (GET/PATCH /admin/settings): the longest a change waits to apply "
        "everywhere. The process that made the change applies it at once.",
    )
    max_keys_per_user: int = Field(
        default=50,
        ge=1,
        description="Live (unrevoked, unexpired) API keys one user may hold; one more is a 409.",
    )
    key_last_used_debounce_seconds: float = Field(default=60.0, ge=0)
    rate_limit: str = Field(
        default="600/minute", description="Per-key request limit, in the `limits` notation."
    )
    tenant_rate_limit: str = Field(
        default="1800/minute",
        description="Per-tenant request limit across all its keys, in the `limits` notation.",
    )
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    # People signing in to the portal (tutela.server.auth.sessions).
    session_idle_minutes: float = Field(
        default=30.0, gt=0, description="A portal session ends after this long without a request."
    )
    session_max_hours: float = Field(
        default=12.0,
        gt=0,
        description="A portal session ends this long after sign-in, in use or not.",
    )
    sign_in_limit: str = Field(
        default="10/minute",
        description="Sign-in attempts per client address, in the `limits` notation.",
    )
    lockout_threshold: int = Field(
        default=5, ge=1, description="Consecutive failed sign-ins that lock an account."
    )
    lockout_minutes: float = Field(
        default=15.0, gt=0, description="How long a locked account refuses passwords."
    )
    sso_allow_internal_providers: bool = Field(
        default=False,
        description="Let a tenant's single sign-on provider be on a private or local network "
        "address (an identity provider inside your network); off, the server reaches only "
        "public HTTPS providers for SSO.",
    )
    invitation_days: float = Field(
        default=7.0, gt=0, description="How long an emailed invitation link works."
    )
    password_reset_minutes: float = Field(
        default=60.0, gt=0, description="How long an emailed password-reset link works."
    )
    retention_interval_hours: float = Field(
        default=24.0,
        ge=0,
        description="How often the API process deletes reports past their plan's history "
        "window (0: never; run `tutela reports purge` instead).",
    )
    max_upload_bytes: int = Field(
        default=50 * 1_048_576,
        ge=1024,
        le=2**31 - 1,  # sizes are kept in 32-bit integer columns
        description="Body limit of uploads (subscription snapshots, IaC files) instead of "
        "max_body_bytes.",
    )
    tenant_deletion_grace_days: float = Field(
        default=30.0,
        ge=0,
        description="Days between an operator's request to delete a tenant and its purge by "
        "the retention job (0: at the job's next run); the request can be cancelled meanwhile.",
    )
    idempotency_retention_hours: float = Field(
        default=24.0,
        gt=0,
        description="How long the answer to a POST with an Idempotency-Key is replayed; older "
        "records are ignored and purged by the retention job.",
    )
    idempotency_lease_seconds: float = Field(
        default=60.0,
        gt=0,
        description="A running keyed POST renews its hold on the key this often (a third of "
        "it); a holder that died is taken over by a retry once this much time has passed.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Observability (tutela.server.metrics, tutela.server.observability): docs/observability.md.
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="text: key=value lines; json: one JSON object per line (for a log shipper).",
    )
    metrics_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="Serve Prometheus metrics at http://METRICS_HOST:METRICS_PORT/metrics, off "
        "the public port (unset: no metrics listener). Each process needs a port of its own.",
    )
    metrics_host: str = Field(
        default="127.0.0.1", description="The address the metrics listener binds to."
    )
    otlp_traces_endpoint: str | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"
        ),
        description="The standard OpenTelemetry variables (no TUTELA_ prefix): either one set "
        "turns tracing on, exported over OTLP/HTTP (protobuf) as the SDK reads them.",
    )
    public_url: str | None = Field(
        default=None,
        description="The API's address as users reach it, for links in emails; default "
        "http://host:port.",
    )

    # Background jobs (governance scans, retention, key health): see tutela.server.jobs.
    job_backend: Literal["inprocess", "celery"] = Field(
        default="inprocess",
        description="inprocess: the API process runs the jobs on a timer (embedded default). "
        "celery: `tutela worker` and `tutela beat` run them, with TUTELA_REDIS_URL as broker.",
    )
    job_queue: str = Field(
        default="tutela",
        pattern=r"^[A-Za-z0-9_.-]{1,64}$",
        description="The Celery queue (one per deployment sharing a Redis).",
    )
    scheduler_interval_seconds: float = Field(
        default=60.0,
        ge=0,
        description="How often due governance scans are looked for (0: never; in-process "
        "scheduler and Celery beat alike).",
    )
    key_health_interval_hours: float = Field(
        default=24.0,
        ge=0,
        description="How often every CMK tenant's Key Vault key is checked (0: never; "
        "in-process scheduler and Celery beat alike).",
    )
    governance_lease_seconds: float = Field(
        default=900.0,
        gt=0,
        description="How long a worker holds a tenant's governance scan; a worker that dies "
        "mid-scan loses it after this and the scan is retried.",
    )
    governance_retry_seconds: float = Field(
        default=300.0,
        gt=0,
        description="Wait before retrying a failed governance scan; doubles per failure, "
        "capped at the cadence's interval.",
    )
    drift_score_drop: int = Field(
        default=5,
        ge=0,
        le=100,
        description="A governance score this many points below the previous one is drift.",
    )

    # Email: the local outbox folder unless TUTELA_SMTP_HOST is set.
    email_from: str = Field(default="Tutela <tutela@localhost>")
    outbox_dir: Path | None = Field(
        default=None, description="Folder of .eml files when no SMTP host; default data_dir/outbox."
    )
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = Field(
        default=True, description="Upgrade the SMTP connection with STARTTLS (refuse if absent)."
    )
    smtp_ca_file: Path | None = Field(
        default=None,
        description="CA bundle to verify the SMTP server's certificate (default: the system's).",
    )
    smtp_timeout_seconds: float = Field(default=30.0, gt=0)

    # LLM narratives (tutela.server.narration): Azure OpenAI, or any OpenAI-compatible server.
    llm_azure_endpoint: str | None = Field(
        default=None,
        description="Azure OpenAI endpoint (https://NAME.openai.azure.com); with "
        "TUTELA_LLM_DEPLOYMENT. Without TUTELA_LLM_API_KEY, managed identity "
        "(DefaultAzureCredential) signs the requests.",
    )
    llm_deployment: str | None = Field(
        default=None, description="The Azure OpenAI deployment that writes narratives."
    )
    llm_api_version: str = Field(
        default=LLM_API_VERSION, description="Azure OpenAI REST API version."
    )
    llm_base_url: str | None = Field(
        default=None,
        description="Any OpenAI-compatible server (https://…/v1); with TUTELA_LLM_MODEL and "
        "TUTELA_LLM_API_KEY.",
    )
    llm_model: str | None = Field(default=None, description="The model at TUTELA_LLM_BASE_URL.")
    llm_api_key: SecretStr | None = Field(
        default=None, description="The model's API key; never logged nor returned."
    )
    llm_timeout_seconds: float = Field(
        default=20.0,
        gt=0,
        le=600,
        description="Longest wait for one model answer; then the deterministic text is used.",
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("sqlite://", "sqlite+pysqlite://", "postgresql+psycopg://")):
            raise ValueError(
                "must start with sqlite:// or postgresql+psycopg:// (no other driver is supported)"
            )
        return value

    @field_validator("rate_limit", "tenant_rate_limit")
    @classmethod
    def _parse_limit(cls, value: str) -> str:
        from limits import parse

        try:
            parse(value)
        except ValueError as exc:
            raise ValueError(f"not a rate limit like '600/minute': {value!r}") from exc
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value or None

    @field_validator("job_backend")
    @classmethod
    def _broker_for_celery(cls, value: str, info: ValidationInfo) -> str:
        if value == "celery" and not info.data.get("redis_url"):
            raise ValueError("celery needs a broker: set TUTELA_REDIS_URL (redis://…)")
        return value

    @field_validator("key_expiry_max_days")
    @classmethod
    def _at_least_default(cls, value: int, info: ValidationInfo) -> int:
        default = info.data.get("key_expiry_default_days")
        if default is not None and value < default:
            raise ValueError(
                f"must be at least TUTELA_KEY_EXPIRY_DEFAULT_DAYS ({value} < {default})"
            )
        return value

    @field_validator("llm_azure_endpoint", "llm_base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("https://", "http://")):
            raise ValueError("must start with https:// (or http:// for a local server)")
        return value or None

    @model_validator(mode="after")
    def _one_complete_llm(self) -> Settings:
        # Checked together: a half-configured model would silently give deterministic text.
        problem = llm_settings_problem(self)
        if problem:
            raise ValueError(problem)
        return self

    @cached_property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'tutela.db'}"

    @cached_property
    def resolved_platform_key_file(self) -> Path:
        return self.platform_key_file or self.data_dir / "platform.key"

    @cached_property
    def resolved_outbox_dir(self) -> Path:
        return self.outbox_dir or self.data_dir / "outbox"

    @cached_property
    def resolved_public_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")


def load_settings(**overrides: object) -> Settings:
    """Read settings; any invalid value becomes one readable line naming its variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "settings"
        name = f"{ENV_PREFIX}{field.upper()}" if error["loc"] else "TUTELA settings"
        message = error["msg"].removeprefix("Value error, ")
        if not error["loc"] and message.startswith(ENV_PREFIX):  # names its variables itself
            raise SettingsError(message) from None
        raise SettingsError(f"{name}: {message}") from None


def llm_settings_problem(settings: Settings) -> str | None:
    """Why the TUTELA_LLM_* variables set do not make one usable model, or None."""
    azure = settings.llm_azure_endpoint or settings.llm_deployment
    compatible = settings.llm_base_url or settings.llm_model
    if azure and compatible:
        return (
            "TUTELA_LLM_AZURE_ENDPOINT/TUTELA_LLM_DEPLOYMENT (Azure OpenAI) and "
            "TUTELA_LLM_BASE_URL/TUTELA_LLM_MODEL (OpenAI-compatible) are exclusive: set one pair"
        )
    if azure and not (settings.llm_azure_endpoint and settings.llm_deployment):
        return "TUTELA_LLM_AZURE_ENDPOINT and TUTELA_LLM_DEPLOYMENT go together: set both"
    if compatible and not (settings.llm_base_url and settings.llm_model and settings.llm_api_key):
        return "TUTELA_LLM_BASE_URL needs TUTELA_LLM_MODEL and TUTELA_LLM_API_KEY: set all three"
    if settings.llm_api_key and not (azure or compatible):
        return (
            "TUTELA_LLM_API_KEY is set without a model: set TUTELA_LLM_AZURE_ENDPOINT and "
            "TUTELA_LLM_DEPLOYMENT, or TUTELA_LLM_BASE_URL and TUTELA_LLM_MODEL"
        )
    return None
