"""Settings from the environment (prefix ``MUSICREC_``) and an optional TOML file.

Precedence: environment, then the file named by ``MUSICREC_CONFIG_FILE`` (or
``config/musicrec.toml`` when present), then the defaults below.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

DEFAULT_CONFIG_FILE = Path("config/musicrec.toml")


class SettingsError(Exception):
    """A bad configuration value: the message names the key and the reason in one line."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MUSICREC_", extra="forbid")

    # Where and how to serve.
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    data_dir: Path = Path("data")
    public_url: str | None = None
    static_dir: Path = Path("frontend/dist")  # the built player, served when present

    # Backing services. None means: start the embedded one under data_dir.
    database_url: str | None = None
    redis_url: str | None = None
    qdrant_url: str | None = None  # http(s)://host:6333 for a Qdrant server; None = Qdrant Edge
    qdrant_api_key: SecretStr | None = None
    qdrant_collection: str = "tracks"
    db_schema: str = Field("public", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    redis_prefix: str = Field("musicrec:", max_length=64)
    db_pool_min: int = Field(1, ge=1, le=100)
    db_pool_max: int = Field(10, ge=1, le=200)
    embedded_pg_port: int = Field(55432, ge=1, le=65535)
    embedded_redis_port: int = Field(56379, ge=1, le=65535)

    # Security.
    secret_key: SecretStr | None = None  # signs session cookies; generated into data_dir if unset
    cookie_secure: bool = False  # True when served over TLS
    # Extra Origins allowed for /ws and cookie-authenticated writes.
    allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["127.0.0.1", "::1"])
    session_ttl_s: int = Field(14 * 24 * 3600, ge=60)
    login_max_failures: int = Field(5, ge=1)
    login_window_s: int = Field(900, ge=1)
    max_body_bytes: int = Field(1_048_576, ge=1024)
    # POST /api/me/listens: a listening-history upload (a Spotify zip is tens of MB).
    listens_upload_max_bytes: int = Field(64 * 1024 * 1024, ge=1024, le=1024 * 1024 * 1024)
    # Redis connections per client (HTTP, realtime), and how long a request waits for one.
    redis_pool_size: int = Field(128, ge=2)
    redis_pool_wait_s: float = Field(10.0, gt=0)

    # WebSocket limits.
    ws_max_frame_bytes: int = Field(65_536, ge=256)
    ws_max_frames_per_s: float = Field(50.0, gt=0)
    ws_max_connections_per_user: int = Field(20, ge=1)
    ws_send_buffer: int = Field(32, ge=2)
    ws_idle_timeout_s: float = Field(120.0, gt=0)
    ws_coalesce_ms: float = Field(30.0, ge=0)
    ws_resume_window: int = Field(200, ge=0)
    # Listening groups: members per group, and how long a group with nobody present lives on.
    group_member_limit: int = Field(32, ge=2, le=1000)
    group_idle_end_s: float = Field(1800.0, gt=0)

    # Engine.
    encoder_backend: Literal["onnx", "torch"] = "onnx"
    quickmix_ttl_s: int = Field(600, ge=1)
    demo_catalog: bool = True  # load the built-in demo catalog on first start
    # Collaborative model (docs/learning.md): `serve` retrains in the background once this many
    # new listening events and imported listens arrived since the last model, checked this often.
    retrain_enabled: bool = True
    retrain_min_events: int = Field(500, ge=1)
    retrain_check_s: float = Field(300.0, gt=0)
    library_check_interval_s: float = Field(30.0, gt=0)  # how often each library server is pinged
    # Hosts (names, addresses, networks) a listener may connect a library at through the HTTP
    # API; empty: any LAN or public address but loopback (see docs/library.md).
    library_allowed_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Audio analysis of library songs without features: processes (0 = none), queued songs,
    # and how many bytes of each song's stream are fetched.
    library_analysis_workers: int = Field(1, ge=0, le=16)
    library_analysis_queue: int = Field(32, ge=1, le=10_000)
    library_analysis_max_bytes: int = Field(12 * 1024 * 1024, ge=65_536, le=256 * 1024 * 1024)

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("allowed_origins", "trusted_proxies", "library_allowed_hosts", mode="before")
    @classmethod
    def _split_list(cls, value: Any) -> Any:
        # Comma-separated in the environment; a JSON list works too.
        if isinstance(value, str) and value.lstrip().startswith("["):
            import json

            return json.loads(value)
        if isinstance(value, str):
            return [part.strip().rstrip("/") for part in value.split(",") if part.strip()]
        return value

    @field_validator("database_url")
    @classmethod
    def _postgres_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("postgres://", "postgresql://")):
            raise ValueError("must start with postgresql://")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator("qdrant_url")
    @classmethod
    def _qdrant_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://", ":memory:")):
            raise ValueError("must start with http:// or https://")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlSource(settings_cls))

    @property
    def embedded_parts(self) -> list[str]:
        """The parts that run embedded because no URL points elsewhere."""
        parts = []
        if self.database_url is None:
            parts.append("postgres")
        if self.redis_url is None:
            parts.append("redis")
        if self.qdrant_url is None:
            parts.append("qdrant")
        return parts

    def resolved_secret_key(self) -> str:
        """The cookie-signing key; a random one is created once and kept under data_dir."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key)
        return key


class _TomlSource(PydanticBaseSettingsSource):
    """Reads the optional TOML file; its keys are the field names without the prefix."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls)
        named = os.environ.get("MUSICREC_CONFIG_FILE")
        path = Path(named) if named else DEFAULT_CONFIG_FILE
        self._data: dict[str, Any] = {}
        if named and not path.exists():
            raise SettingsError(f"MUSICREC_CONFIG_FILE: {path} does not exist")
        if path.exists():
            try:
                self._data = tomllib.loads(path.read_text())
            except tomllib.TOMLDecodeError as exc:
                raise SettingsError(f"MUSICREC_CONFIG_FILE: {path} is not valid TOML ({exc})") from exc

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._data)


def load_settings(**overrides: Any) -> Settings:
    """Build settings, turning pydantic's report into one line naming the key and the reason."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"]) or "settings"
        env_key = f"MUSICREC_{key.upper()}"
        raise SettingsError(f"{env_key}: {first['msg']}") from None
