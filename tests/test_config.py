"""A bad configuration value stops start-up with one line naming the key and the reason."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from config import SettingsError, load_settings


def test_bad_port_names_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MUSICREC_PORT", "not-a-number")
    with pytest.raises(SettingsError, match="MUSICREC_PORT"):
        load_settings()


def test_bad_database_url_names_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MUSICREC_DATABASE_URL", "mysql://nope")
    with pytest.raises(SettingsError, match=r"MUSICREC_DATABASE_URL: .*postgresql"):
        load_settings()


def test_origins_are_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MUSICREC_ALLOWED_ORIGINS", "https://a.example, https://b.example/")
    assert load_settings().allowed_origins == ["https://a.example", "https://b.example"]


def test_config_file_is_read_and_env_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "musicrec.toml"
    config.write_text('port = 9001\nlog_level = "DEBUG"\n')
    monkeypatch.setenv("MUSICREC_CONFIG_FILE", str(config))
    monkeypatch.setenv("MUSICREC_LOG_LEVEL", "WARNING")
    settings = load_settings()
    assert settings.port == 9001
    assert settings.log_level == "WARNING"


def test_cli_refuses_bad_config_in_one_line() -> None:
    env = {**os.environ, "MUSICREC_PORT": "70000"}
    result = subprocess.run([sys.executable, "-m", "cli", "serve"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if "configuration error" in line]
    assert lines == ["configuration error: MUSICREC_PORT: Input should be less than or equal to 65535"]
