"""The one settings class: every knob is a ``CONCIERGE_`` environment variable."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Username of the advisor every seeded bank has (services.synth.writer adds it).
DEMO_ADVISOR = "advisor@concierge.example"
# How long a write's idempotency key replays its first result (services.banking.retention):
# 30 days by default, as the advisor summary lists 30 days of writes; never under a day.
IDEMPOTENCY_RETENTION_HOURS = 720
MIN_IDEMPOTENCY_RETENTION_HOURS = 24


class Settings(BaseSettings):
    """Concierge configuration; embedded defaults need no servers at all."""

    model_config = SettingsConfigDict(
        env_prefix="CONCIERGE_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    var_dir: Path = Field(Path("var"), description="Folder for local state (SQLite, Chroma).")
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the system of record; SQLite under var/ when unset.",
    )
    redis_url: str | None = Field(
        None, description="Redis for cache and event stream; in-process when unset."
    )
    event_bus: Literal["memory", "redis"] = Field(
        "memory", description="Event bus: in-process ('memory') or Redis Streams ('redis')."
    )
    cache_url: str | None = Field(
        None, description="Redis URL for the decision and feature cache; in-process LRU when unset."
    )
    control_share: float = Field(
        0.05,
        ge=0.0,
        le=1.0,
        description="Share of customers held out of model-driven offers, to measure uplift.",
    )
    chroma_url: str | None = Field(
        None, description="Chroma server URL; a PersistentClient under var/ when unset."
    )
    llm: str = Field("offline", description="Language model: 'offline' or 'provider:model'.")
    nlu_model: Path | None = Field(
        None,
        description="Intent model folder (concierge nlu train) for the offline model; "
        "trained from agents/offline/data/utterances.csv into var/nlu when unset.",
    )
    nlu_examples: Path | None = Field(
        None,
        description="A file of more examples the offline model's intent classifier learns beside "
        "agents/offline/data/utterances.csv: a text,category CSV of the bank's labelled customer "
        "requests (categories: Concierge's intents, out_of_scope among them; any other is a "
        "knowledge question), or CLINC150's data_full.json (its train and oos_train lists; "
        "other domains' requests as out of scope). The utterances alone when unset.",
    )
    knowledge_questions: Path | None = Field(
        None,
        description="A text,category CSV of the bank's customer questions (categories: the "
        "articles' intents labels or article ids) that the knowledge search's question model "
        "learns from beside the articles' own phrasings; the articles alone when unset.",
    )
    host: str = Field("127.0.0.1", description="Address `concierge serve` binds to.")
    port: int = Field(8000, ge=1, le=65535, description="Port `concierge serve` listens on.")
    secret_key: str | None = Field(
        None,
        description="Key that signs session tokens; generated into var/secret.key when unset.",
    )
    token_ttl_minutes: int = Field(60, ge=1, description="Lifetime of a session token.")
    demo_password: str = Field(
        "concierge-demo", description="Password given to every seeded demo customer."
    )
    demo_advisor_password: str = Field(
        "concierge-advisor",
        description=f"Password of the seeded demo advisor, {DEMO_ADVISOR}.",
    )
    log_level: str = Field("INFO", description="Python logging level.")
    chat_threads: int = Field(
        2,
        ge=1,
        le=64,
        description="Chat turns a server process runs at once (each in its own thread; one "
        "interpreter runs Python one thread at a time, so a few keep the encoder and the "
        "database busy while more only queue for the lock).",
    )
    ws_compression: bool = Field(
        False,
        description="Compress websocket frames (permessage-deflate). Off: chat frames are "
        "small JSON, and compressing each one costs server CPU for little gain (see "
        "docs/performance.md).",
    )
    warm_start: bool = Field(
        True,
        description="Load the assistant's models and the knowledge index in the background at "
        "start-up, with /ready answering 503 until they are loaded, so no customer's first "
        "question waits for them. Off: each is built on first use.",
    )
    idempotency_retention_hours: int = Field(
        IDEMPOTENCY_RETENTION_HOURS,
        ge=MIN_IDEMPOTENCY_RETENTION_HOURS,
        description="Hours a write's idempotency key replays its first result before it is "
        f"purged (at start-up); never under {MIN_IDEMPOTENCY_RETENTION_HOURS}. The advisor "
        "summary lists 30 days of writes.",
    )

    advisor_hours: str = Field(
        "always",
        description="When advisors answer in the chat, in the bank's time zone: e.g. "
        "'mon-fri 08:00-20:00, sat 09:00-13:00', or 'always'. Outside them a request for a person "
        "says so and leaves a case.",
    )
    bank_timezone: str = Field(
        "UTC", description="The bank's IANA time zone (e.g. America/New_York), for advisor hours."
    )

    smtp_host: str | None = Field(
        None, description="SMTP server notifications are e-mailed through; no e-mail when unset."
    )
    smtp_port: int = Field(25, ge=1, le=65535, description="The SMTP server's port.")
    smtp_sender: str = Field(
        "Concierge <notifications@bank.example.com>", description="From address of e-mails."
    )
    smtp_starttls: bool = Field(False, description="Upgrade the SMTP connection with STARTTLS.")
    smtp_username: str | None = Field(None, description="SMTP sign-in, when the server needs one.")
    smtp_password: str | None = Field(None, description="SMTP password (kept out of logs).")
    push_webhook_url: str | None = Field(
        None, description="HTTPS endpoint of the push provider; no push when unset."
    )
    sms_webhook_url: str | None = Field(
        None, description="HTTPS endpoint of the text-message provider; no SMS when unset."
    )
    webhook_secret: str | None = Field(
        None, description="Key that signs webhook requests (HMAC-SHA256) for the providers."
    )
    notify_allowed_domains: str = Field(
        "",
        description="E-mail domains notifications may go to besides the reserved example.* "
        "ones, comma-separated, or '*' for any address, number and provider. Empty: only "
        "reserved addresses, so synthetic customers can never be reached.",
    )
    notify_dispatch: bool = Field(
        True, description="Send due notifications from the server process (else run workers)."
    )
    notify_sweep_seconds: int = Field(
        300,
        ge=5,
        description="How often the scheduler looks at customers whose data or day changed.",
    )
    notify_lease_seconds: int = Field(
        60,
        ge=1,
        description="How long a worker holds a notification it is sending before another may "
        "take it over (the first one died).",
    )
    app_url: str = Field(
        "http://127.0.0.1:8000/", description="The app's address, for links in e-mails."
    )

    @field_validator("advisor_hours")
    @classmethod
    def _hours_readable(cls, value: str) -> str:
        from services.opening_hours import Hours

        Hours.parse(value)  # a ValueError says what cannot be read
        return value

    @field_validator("bank_timezone")
    @classmethod
    def _zone_known(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (e.g. America/New_York)") from None
        return value

    @field_validator(
        "database_url",
        "redis_url",
        "cache_url",
        "chroma_url",
        "secret_key",
        "nlu_examples",
        "knowledge_questions",
        "smtp_host",
        "smtp_username",
        "smtp_password",
        "push_webhook_url",
        "sms_webhook_url",
        "webhook_secret",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        # `CONCIERGE_REDIS_URL=` in a .env file means "not configured", not "empty URL".
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to an SQLite file under ``var_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.var_dir / 'concierge.db').as_posix()}"

    def resolved_secret_key(self) -> str:
        """The signing key; creates and keeps one under ``var_dir`` when none is configured."""
        if self.secret_key:
            return self.secret_key
        path = self.var_dir / "secret.key"
        if not path.exists():
            import secrets

            self.var_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(32))
            path.chmod(0o600)
        return path.read_text().strip()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings read once from the environment (tests clear the cache after monkeypatching)."""
    return Settings()
