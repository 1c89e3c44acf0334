"""web's settings, read from WEB_* variables."""

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from eventkit.settings import ServiceSettings, reject_placeholder


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WEB_")

    http_port: int = Field(default=8100, ge=1, le=65535)
    auth_signing_key: SecretStr = Field(
        description="base64url Ed25519 private key: the web package is the identity provider that "
        "mints the bearer tokens the services verify (no service holds it)"
    )
    intake_url: str = "http://127.0.0.1:8101"
    referral_url: str = "http://127.0.0.1:8102"
    directory_url: str = "http://127.0.0.1:8103"
    notify_url: str = "http://127.0.0.1:8104"
    trace_url_template: str = Field(
        default="http://127.0.0.1:9411/zipkin/traces/{trace_id}",
        description="Where a trace id links to: Zipkin's UI locally, Jaeger's (/trace/{trace_id}) in compose",
    )
    # Prometheus' UI, linked from the operator dashboard when set (`make up PROMETHEUS=1` locally;
    # the platform's own Prometheus or Grafana in a deployment).
    prometheus_url: str | None = Field(default=None, pattern=r"^https?://")
    # Cookies are `Secure` (https only) unless in development mode (the local stack's plain http);
    # WEB_COOKIE_SECURE overrides either way.
    cookie_secure: bool | None = None
    session_ttl_s: int = Field(default=8 * 3600, ge=60)
    # A signed-in session also ends after this long without a request.
    session_idle_s: int = Field(default=30 * 60, ge=60)
    # Each bearer token minted for a call to a service lives this long.
    token_ttl_s: int = Field(default=300, ge=30)
    # Live pages (SSE) ask the services this often per open stream.
    live_poll_interval_s: float = Field(default=1.0, gt=0)

    @field_validator("auth_signing_key")
    @classmethod
    def _real_key(cls, value: SecretStr) -> SecretStr:
        return reject_placeholder(value, "WEB_AUTH_SIGNING_KEY")

    @field_validator("trace_url_template")
    @classmethod
    def _has_placeholder(cls, value: str) -> str:
        if "{trace_id}" not in value:
            raise ValueError("must contain {trace_id}")
        return value

    @property
    def secure_cookies(self) -> bool:
        return self.cookie_secure if self.cookie_secure is not None else not self.development_mode

    def trace_url(self, trace_id: str) -> str:
        return self.trace_url_template.replace("{trace_id}", trace_id)
