"""Settings: precedence, validation messages, secrets, documentation."""

from pathlib import Path

import pytest

from primenews.config import SETTINGS, Settings, dump_settings, load_settings, settings_markdown
from primenews.errors import ConfigError


def test_defaults_load_without_environment(tmp_path: Path) -> None:
    settings = load_settings(environ={"HOME": str(tmp_path)})
    assert settings.port == 8000
    assert settings.allow_private_networks is False
    assert settings.database_url.startswith("sqlite:///")


def test_precedence_file_then_env_then_flags(tmp_path: Path) -> None:
    config = tmp_path / "primenews.toml"
    config.write_text('port = 9001\nhost = "0.0.0.0"\nuser_agent = "from-file"\n')
    env = {"PRIMENEWS_PORT": "9002", "PRIMENEWS_USER_AGENT": "from-env"}
    settings = load_settings(config_file=config, environ=env, overrides={"port": 9003})
    assert settings.host == "0.0.0.0"  # file beats default
    assert settings.user_agent == "from-env"  # env beats file
    assert settings.port == 9003  # flag beats env


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        ("port", "eighty", "type int"),
        ("port", "70000", "0 to 65535"),
        ("allow_private_networks", "perhaps", "true or false"),
        ("log_level", "LOUD", "one of DEBUG"),
        ("fetch_max_bytes", "12", ">= 1024"),
    ],
)
def test_bad_values_name_key_value_and_what_is_allowed(name: str, value: str, allowed: str) -> None:
    env = {f"PRIMENEWS_{name.upper()}": value}
    with pytest.raises(ConfigError) as caught:
        load_settings(environ=env)
    message = str(caught.value)
    assert name in message and value in message and allowed in message


def test_unknown_key_in_file_fails(tmp_path: Path) -> None:
    config = tmp_path / "primenews.toml"
    config.write_text("prot = 80\n")
    with pytest.raises(ConfigError, match="Unknown setting 'prot'"):
        load_settings(config_file=config, environ={})


def test_database_path_and_url_forms(tmp_path: Path) -> None:
    as_path = load_settings(environ={"PRIMENEWS_DATABASE": str(tmp_path / "x.db")})
    assert as_path.database_url == f"sqlite:///{tmp_path / 'x.db'}"
    as_url = load_settings(environ={"PRIMENEWS_DATABASE": "postgresql+psycopg://u:pw@h/db"})
    assert as_url.database_url == "postgresql+psycopg://u:pw@h/db"


def test_secret_file_variant_and_masking(tmp_path: Path) -> None:
    secret = tmp_path / "db-url"
    secret.write_text("postgresql+psycopg://user:hunter2@db.internal/news\n")
    settings = load_settings(environ={"PRIMENEWS_DATABASE_FILE": str(secret)})
    assert settings.database == "postgresql+psycopg://user:hunter2@db.internal/news"
    shown = dump_settings(settings)
    assert "hunter2" not in str(shown)
    assert "db.internal" in shown["database"]


def test_settings_table_and_dataclass_agree() -> None:
    assert [s.name for s in SETTINGS] == list(Settings.__dataclass_fields__)


def test_every_setting_is_documented() -> None:
    doc = (Path(__file__).parents[1] / "docs" / "configuration.md").read_text()
    assert doc == settings_markdown(), (
        "regenerate: primenews config --markdown > docs/configuration.md"
    )
    for setting in SETTINGS:
        assert f"`{setting.name}`" in doc, f"{setting.name} missing from docs/configuration.md"
        assert setting.help.strip()
