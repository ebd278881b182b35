"""The gateway's settings: where the services are, how long tokens live, what it tolerates."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import NoDecode

from shared.settings import EVENT_TOPICS, SERVICE_PORTS, ServiceSettings, local_url
from shared.tokens import load_private_key, load_public_keys

DEFAULT_DEMO_PASSWORD = "office-demo"  # noqa: S105 - the documented local demo login, never created outside local


class GatewaySettings(ServiceSettings):
    service_name: str = "gateway"
    port: int = SERVICE_PORTS["gateway"]

    markets_url: str = local_url("markets")
    shops_url: str = local_url("shops")
    districts_url: str = local_url("districts")

    # browsers' origins allowed to call the API cross-site (comma-separated); empty: same origin only
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # a background of map tiles for the pages' maps, e.g. https://tiles.example.org/{z}/{x}/{y}.png, with
    # the attribution its provider asks for; empty (the default): no request leaves for a tile server
    map_tiles_url: str = ""
    map_tiles_attribution: str = ""

    # the Ed25519 key that signs access tokens: PEM text or the path of a file holding it (a Secret)
    jwt_private_key: str | None = None
    # keys that signed tokens until a rotation (PEM, public or private, or a file path): still
    # published in the JWKS and accepted until removed
    jwt_previous_keys: str | None = None

    token_ttl_s: int = Field(default=900, ge=1, le=86_400)
    refresh_token_ttl_s: int = Field(default=14 * 86_400, ge=60)
    # a one-time password-reset or activation link lasts this long
    one_time_token_ttl_s: int = Field(default=72 * 3600, ge=1)
    # where links in e-mails and reset answers point (the public address of the dashboard)
    public_url: str = ""

    # where activation links are mailed: smtp://[user:password@]host[:port] (STARTTLS when the
    # server offers it) or smtps://… (TLS from the start); unset: no mail, the office hands links over
    smtp_url: str | None = None
    mail_from: str = "Comune di Milano - Commercio <no-reply@commercio.milano.invalid>"
    smtp_timeout_s: float = Field(default=10.0, gt=0)
    smtp_attempts: int = Field(default=3, ge=1, le=10)
    # anonymous registrations per client address: a burst, then this many an hour
    registration_burst: int = Field(default=5, ge=1)
    registration_rate_per_hour: float = Field(default=20, gt=0)
    demo_password: str = DEFAULT_DEMO_PASSWORD
    # the first office account of a new installation (any profile), read from a Secret; created
    # once if missing and never overwritten, so the password can then be changed and the Secret removed
    bootstrap_office_username: str | None = None
    bootstrap_office_password: str | None = Field(default=None, min_length=12)

    # failed logins per username and address before each further attempt waits; the wait doubles
    # with every failure up to login_lockout_s, and a correct password from another address is never held
    login_max_failures: int = Field(default=5, ge=1, le=100)
    login_delay_s: float = Field(default=2.0, gt=0)
    login_lockout_s: int = Field(default=300, ge=1)
    login_rate_per_minute: float = Field(default=20, gt=0)
    login_burst: int = Field(default=10, ge=1)

    rate_limit_enabled: bool = True
    # generous enough for an import through one token; a flood or a runaway script gets 429
    rate_limit_ip_per_s: float = Field(default=200, gt=0)
    rate_limit_ip_burst: int = Field(default=800, ge=1)
    rate_limit_token_per_s: float = Field(default=100, gt=0)
    rate_limit_token_burst: int = Field(default=400, ge=1)

    # the one route that takes more than max_body_bytes: a shop's document (10 MiB) in its multipart envelope
    document_upload_max_bytes: int = Field(default=10 * 1024 * 1024 + 64 * 1024, ge=1)

    # open-data imports (POST /imports): the largest file, rows in flight, how often progress is saved,
    # and how long an unfinished job may go without a heartbeat before it counts as interrupted
    import_max_bytes: int = Field(default=20 * 1024 * 1024, ge=1)
    import_concurrency: int = Field(default=8, ge=1, le=64)
    import_progress_s: float = Field(default=0.5, gt=0)
    import_heartbeat_s: float = Field(default=2.0, gt=0)
    import_stale_after_s: float = Field(default=15.0, gt=0)

    upstream_connect_timeout_s: float = Field(default=1.0, gt=0)
    upstream_timeout_s: float = Field(default=10.0, gt=0)
    upstream_retries: int = Field(default=2, ge=0, le=5)
    upstream_max_connections: int = Field(default=200, ge=1)
    breaker_failures: int = Field(default=5, ge=1)
    breaker_open_s: float = Field(default=5.0, gt=0)

    stream_topics: Annotated[list[str], NoDecode] = Field(default_factory=lambda: list(EVENT_TOPICS.values()))
    sse_heartbeat_s: float = Field(default=15.0, gt=0)
    sse_ring_size: int = Field(default=1000, ge=1)
    sse_client_queue: int = Field(default=256, ge=1)
    sse_send_timeout_s: float = Field(default=10.0, gt=0)
    sse_max_clients: int = Field(default=200, ge=1)

    # new district alerts are mailed to these addresses (comma-separated; needs SMTP_URL) and posted
    # as JSON to ALERT_WEBHOOK_URL, by a consumer of ALERT_TOPIC of their own (docs/gateway.md)
    alert_mail_to: Annotated[list[str], NoDecode] = Field(default_factory=list)
    alert_webhook_url: str | None = None
    alert_webhook_attempts: int = Field(default=5, ge=1, le=20)
    alert_topic: str = EVENT_TOPICS["districts"]
    alert_notice_poll_s: float = Field(default=5.0, gt=0)
    # alerts older than this when first read are not told (a new consumer starts at the topic's start)
    alert_notice_max_age_h: float = Field(default=24.0, gt=0)

    openapi_refresh_s: float = Field(default=60.0, gt=0)
    # how long anonymous callers share one /overview (0: build it for every request)
    overview_cache_s: float = Field(default=3.0, ge=0, le=60)

    @model_validator(mode="after")
    def _prod_needs_a_signing_key(self) -> GatewaySettings:
        if self.profile == "prod" and not self.jwt_private_key:
            raise ValueError("JWT_PRIVATE_KEY must be set in the prod profile (an Ed25519 key, PEM or file path)")
        if self.jwt_private_key:
            load_private_key(self.jwt_private_key)  # a ValueError names what is wrong with it
        if self.jwt_previous_keys:
            load_public_keys(self.jwt_previous_keys)
        if self.smtp_url:
            if urlsplit(self.smtp_url).scheme not in ("smtp", "smtps") or not urlsplit(self.smtp_url).hostname:
                raise ValueError("SMTP_URL must look like smtp://host:port or smtps://user:password@host:port")
            if not self.public_url.startswith(("http://", "https://")):
                raise ValueError("PUBLIC_URL (http(s)://…) must be set with SMTP_URL: mailed links must be absolute")
        return self

    @field_validator("map_tiles_url")
    @classmethod
    def _tile_template(cls, value: str) -> str:
        if not value:
            return value
        parts = urlsplit(value)
        if parts.scheme != "https" or not parts.netloc:
            raise ValueError("MAP_TILES_URL must be an https:// address")
        if not all(place in value for place in ("{z}", "{x}", "{y}")):
            raise ValueError("MAP_TILES_URL must hold the places {z}, {x} and {y}")
        return value

    @property
    def map_tiles_origin(self) -> str:
        """The tile server's origin (for the pages' Content-Security-Policy), or empty."""
        if not self.map_tiles_url:
            return ""
        parts = urlsplit(self.map_tiles_url.replace("{s}", "a"))
        return f"{parts.scheme}://{parts.netloc}"

    @field_validator("alert_mail_to")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for address in value:
            local, at, domain = address.partition("@")
            if not (local and at and "." in domain) or any(c.isspace() for c in address):
                raise ValueError(f"ALERT_MAIL_TO holds {address!r}, which is not an e-mail address")
        return value

    @field_validator("alert_webhook_url")
    @classmethod
    def _webhook(cls, value: str | None) -> str | None:
        if value and (urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).netloc):
            raise ValueError("ALERT_WEBHOOK_URL must be an http(s):// address")
        return value or None

    @field_validator("cors_origins", "stream_topics", "alert_mail_to", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @property
    def upstream_urls(self) -> dict[str, str]:
        return {"markets": self.markets_url, "shops": self.shops_url, "districts": self.districts_url}
