"""Settings: one table, read as defaults < primenews.toml < PRIMENEWS_* env < CLI flags.

Every setting is declared once in ``SETTINGS``; the ``Settings`` dataclass,
environment variable names, ``primenews config --show`` and the settings
reference in docs/configuration.md are all derived from that table.
``load_settings`` is called once (by the CLI or an app factory) and the
frozen result is passed down; nothing reads the environment later.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from primenews.errors import ConfigError

ENV_PREFIX = "PRIMENEWS_"
CONFIG_FILE_NAME = "primenews.toml"


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    type: type
    default: Any
    help: str
    check: Callable[[Any], str | None] | None = None  # returns what is allowed, or None if fine
    secret: bool = False


def _at_least(low: float) -> Callable[[Any], str | None]:
    return lambda value: None if value >= low else f"a number >= {low}"


def _between(low: float, high: float) -> Callable[[Any], str | None]:
    return lambda value: None if low <= value <= high else f"a number from {low} to {high}"


def _one_of(*choices: str) -> Callable[[Any], str | None]:
    return lambda value: None if value in choices else "one of " + ", ".join(choices)


def _random_secret(value: str) -> str | None:
    # Refuse short keys and placeholders ("changethis…", "xxxx…"): a guessable key signs nothing.
    if not value or (len(value) >= 32 and len(set(value)) >= 10 and "changethis" not in value):
        return None
    return "empty, or a random string of at least 32 characters (not a placeholder)"


def _queue_url(value: str) -> str | None:
    if not value or value.startswith(("redis://", "rediss://", "redis+socket://")):
        return None
    return "empty (in-process), or a Redis URL such as redis://127.0.0.1:6379/0"


def _queue_name(value: str) -> str | None:
    if value and all(c.isalnum() or c in "-_." for c in value):
        return None
    return "letters, digits, '-', '_' and '.'"


def _public_url(value: str) -> str | None:
    if not value or value.startswith(("http://", "https://")):
        return None
    return "empty, or an http(s) URL"


def _email(value: str) -> str | None:
    if "@" in value and not any(c in value for c in " \r\n<>,;"):
        return None
    return "one plain address such as news@example.org"


def _default_data_dir() -> str:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return str(Path(base) / "primenews")


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "data_dir", str, _default_data_dir(), "Folder for the SQLite database and other state."
    ),
    Setting(
        "database",
        str,
        "",
        "SQLAlchemy URL (sqlite:///path, postgresql+psycopg://...) or a file path; "
        "empty means primenews.sqlite3 in data_dir.",
        secret=True,
    ),
    Setting("host", str, "127.0.0.1", "Address the web server listens on."),
    Setting("port", int, 8000, "Port the web server listens on.", _between(0, 65535)),
    Setting(
        "public_url",
        str,
        "",
        "This instance's address as publishers' WebSub hubs reach it (https://news.example.org); "
        "empty means no WebSub subscriptions, polling only.",
        _public_url,
    ),
    Setting(
        "poll_interval_minutes",
        float,
        30.0,
        "Polling interval for a new source, before its publishing rate is known.",
        _at_least(1),
    ),
    Setting(
        "poll_min_interval_minutes",
        float,
        5.0,
        "Shortest interval between two polls of a source.",
        _at_least(0.1),
    ),
    Setting(
        "poll_max_interval_minutes",
        float,
        360.0,
        "Longest interval between two polls of a source.",
        _at_least(1),
    ),
    Setting(
        "fetch_connect_timeout_seconds",
        float,
        10.0,
        "Time allowed to open a connection.",
        _between(0.1, 300),
    ),
    Setting(
        "fetch_read_timeout_seconds",
        float,
        20.0,
        "Time allowed between two reads of a response.",
        _between(0.1, 600),
    ),
    Setting(
        "fetch_total_timeout_seconds",
        float,
        60.0,
        "Time allowed for a whole response.",
        _between(0.1, 3600),
    ),
    Setting(
        "fetch_max_bytes",
        int,
        10_000_000,
        "Largest response body accepted, after decompression.",
        _at_least(1024),
    ),
    Setting("fetch_max_redirects", int, 5, "Redirects followed per request.", _between(0, 20)),
    Setting("fetch_retries", int, 2, "Retries after a 5xx answer or a timeout.", _between(0, 10)),
    Setting(
        "fetch_concurrency",
        int,
        16,
        "Requests in flight at once, all hosts together.",
        _between(1, 512),
    ),
    Setting(
        "fetch_per_host_concurrency",
        int,
        2,
        "Requests in flight at once to one host.",
        _between(1, 64),
    ),
    Setting(
        "fetch_per_host_delay_ms",
        int,
        500,
        "Pause between two requests to one host.",
        _between(0, 600_000),
    ),
    Setting(
        "user_agent",
        str,
        "PrimeNews/0.1 (self-hosted news reader; +https://github.com/primenews/primenews)",
        "User-Agent sent with every request; say who you are.",
        lambda value: None if value.strip() else "a non-empty string",
    ),
    Setting("respect_robots_txt", bool, True, "Skip URLs that robots.txt disallows for us."),
    Setting(
        "allow_private_networks",
        bool,
        False,
        "Allow fetching private, loopback and link-local addresses (off: refused, also after "
        "redirects and DNS).",
    ),
    Setting(
        "fetch_allowlist",
        str,
        "",
        "Comma-separated CIDRs or host names that may be fetched although private "
        "(for internal sources), while allow_private_networks stays off.",
    ),
    Setting(
        "extract_workers",
        int,
        0,
        "Processes for article extraction; 0 means one per CPU core.",
        _between(0, 256),
    ),
    Setting(
        "queue_url",
        str,
        "",
        "Celery broker (redis://host:6379/0) that `poll` and `up` hand fetching, extraction "
        "and insights to, run by `primenews worker` processes; empty means in-process.",
        _queue_url,
        secret=True,
    ),
    Setting(
        "queue_name",
        str,
        "primenews",
        "Queue the poll tasks go to; the workers and the poller of one store use the same one.",
        _queue_name,
    ),
    Setting(
        "worker_concurrency",
        int,
        0,
        "Tasks one `primenews worker` runs at once (prefork processes); 0 means one per core.",
        _between(0, 256),
    ),
    Setting(
        "insights_enabled",
        bool,
        True,
        "Extract entities, figures, quotes, dates and a summary from every new or revised "
        "article (spaCy NER in the extract workers, ~130 CPU ms per 800-word article).",
    ),
    Setting(
        "max_entries_per_source",
        int,
        200,
        "New entries taken from one source per poll (the newest first).",
        _between(1, 100_000),
    ),
    Setting(
        "session_max_age_hours",
        float,
        24.0,
        "How long a login lasts; after that the admin logs in again.",
        _between(0.05, 24 * 90),
    ),
    Setting(
        "cookie_secure",
        bool,
        False,
        "Mark the login cookies Secure even on plain-http requests (set it behind a TLS proxy "
        "that does not send X-Forwarded-Proto); https requests get Secure cookies anyway.",
    ),
    Setting(
        "login_attempts_per_minute",
        int,
        5,
        "Login attempts allowed per client address and per user name (in-process limit).",
        _between(1, 10_000),
    ),
    Setting(
        "write_requests_per_minute",
        int,
        60,
        "Writes (API and admin forms) allowed per client address (in-process limit).",
        _between(1, 1_000_000),
    ),
    Setting(
        "signing_key",
        str,
        "",
        "Key that signs the login form's CSRF cookie; empty means a random key per process "
        "(several web processes behind one address need one shared key of 32+ characters).",
        _random_secret,
        secret=True,
    ),
    Setting(
        "log_level", str, "INFO", "Logging level.", _one_of("DEBUG", "INFO", "WARNING", "ERROR")
    ),
    # Alerts (alerts/): e-mail digests over SMTP, signed webhooks.
    Setting(
        "smtp_host",
        str,
        "",
        "SMTP server that sends alert digests; empty means no e-mail (digests stay owed).",
    ),
    Setting("smtp_port", int, 25, "Port of the SMTP server.", _between(1, 65535)),
    Setting("smtp_user", str, "", "User name for SMTP AUTH; empty means no login."),
    Setting("smtp_password", str, "", "Password for SMTP AUTH.", secret=True),
    Setting(
        "smtp_from", str, "primenews@localhost", "Sender address (From) of alert e-mails.", _email
    ),
    Setting(
        "smtp_starttls",
        bool,
        False,
        "Upgrade the SMTP connection with STARTTLS before logging in (needed by most relays).",
    ),
    Setting(
        "smtp_timeout_seconds", float, 30.0, "Timeout of each SMTP operation.", _between(1, 600)
    ),
    Setting(
        "alert_webhook_retries",
        int,
        3,
        "Retries of a webhook call after a non-2xx answer, a timeout or a refused connection.",
        _between(0, 10),
    ),
    Setting(
        "alert_webhook_backoff_seconds",
        float,
        1.0,
        "Wait before the first webhook retry; doubled for each next one.",
        _between(0, 600),
    ),
    Setting(
        "alert_webhook_timeout_seconds",
        float,
        10.0,
        "Timeout of one webhook call.",
        _between(0.1, 300),
    ),
)

SETTINGS_BY_NAME: dict[str, Setting] = {setting.name: setting for setting in SETTINGS}


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: str
    database: str
    host: str
    port: int
    public_url: str
    poll_interval_minutes: float
    poll_min_interval_minutes: float
    poll_max_interval_minutes: float
    fetch_connect_timeout_seconds: float
    fetch_read_timeout_seconds: float
    fetch_total_timeout_seconds: float
    fetch_max_bytes: int
    fetch_max_redirects: int
    fetch_retries: int
    fetch_concurrency: int
    fetch_per_host_concurrency: int
    fetch_per_host_delay_ms: int
    user_agent: str
    respect_robots_txt: bool
    allow_private_networks: bool
    fetch_allowlist: str
    extract_workers: int
    queue_url: str
    queue_name: str
    worker_concurrency: int
    insights_enabled: bool
    max_entries_per_source: int
    session_max_age_hours: float
    cookie_secure: bool
    login_attempts_per_minute: int
    write_requests_per_minute: int
    signing_key: str
    log_level: str
    smtp_host: str
    smtp_port: int
    smtp_user: str
    smtp_password: str
    smtp_from: str
    smtp_starttls: bool
    smtp_timeout_seconds: float
    alert_webhook_retries: int
    alert_webhook_backoff_seconds: float
    alert_webhook_timeout_seconds: float

    @property
    def database_url(self) -> str:
        """The SQLAlchemy URL of the store, with a file path turned into a SQLite URL."""
        if not self.database:
            return "sqlite:///" + str(Path(self.data_dir) / "primenews.sqlite3")
        if "://" in self.database:
            return self.database
        return "sqlite:///" + str(Path(self.database))

    def replace(self, **changes: Any) -> Settings:
        """A copy with some values changed, each checked like any other."""
        checked = {name: convert(name, value) for name, value in changes.items()}
        return dataclasses.replace(self, **checked)


def env_name(name: str) -> str:
    return ENV_PREFIX + name.upper()


def convert(name: str, raw: Any) -> Any:
    """Turn a raw value (string from env/CLI or TOML value) into the setting's type and check it."""
    setting = SETTINGS_BY_NAME.get(name)
    if setting is None:
        allowed = ", ".join(sorted(SETTINGS_BY_NAME))
        raise ConfigError(f"Unknown setting {name!r}. Known settings: {allowed}")
    value = _coerce(setting, raw)
    problem = setting.check(value) if setting.check else None
    if problem:
        shown = "(hidden)" if setting.secret else repr(raw)  # an error message may reach a log
        raise ConfigError(f"Setting {name!r} has value {shown}. Allowed: {problem}.")
    return value


def _coerce(setting: Setting, raw: Any) -> Any:
    kind = setting.type
    try:
        if kind is bool:
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in {"1", "true", "yes", "on"}:
                return True
            if text in {"0", "false", "no", "off"}:
                return False
            raise ValueError(text)
        if kind is int and isinstance(raw, float) and not raw.is_integer():
            raise ValueError(raw)
        return kind(raw)
    except (TypeError, ValueError) as err:
        what = "true or false" if kind is bool else f"a value of type {kind.__name__}"
        raise ConfigError(f"Setting {setting.name!r} has value {raw!r}. Allowed: {what}.") from err


def load_settings(
    *,
    config_file: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Build the settings once: defaults < TOML file < environment < overrides.

    Args:
        config_file: a TOML file; when None, ``PRIMENEWS_CONFIG`` or ./primenews.toml if present.
        environ: the environment to read (``os.environ`` when None).
        overrides: values from CLI flags; None values are ignored.

    Raises:
        ConfigError: a value is unknown, of the wrong type or out of range.
    """
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {setting.name: setting.default for setting in SETTINGS}
    values.update(_read_file(_config_path(config_file, env)))
    for setting in SETTINGS:
        from_env = _env_value(setting, env)
        if from_env is not None:
            values[setting.name] = from_env
    for name, value in (overrides or {}).items():
        if value is not None:
            values[name] = value
    return Settings(**{name: convert(name, value) for name, value in values.items()})


def _config_path(config_file: str | Path | None, env: Mapping[str, str]) -> Path | None:
    if config_file is not None:
        return Path(config_file)
    if env.get(ENV_PREFIX + "CONFIG"):
        return Path(env[ENV_PREFIX + "CONFIG"])
    local = Path(CONFIG_FILE_NAME)
    return local if local.is_file() else None


def _read_file(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError as err:
        raise ConfigError(f"Config file {str(path)!r} does not exist.") from err
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"Config file {str(path)!r} is not valid TOML: {err}") from err
    table = data.get("primenews", data)
    for name in table:
        convert(name, table[name])  # fail early on unknown keys
    return dict(table)


def _env_value(setting: Setting, env: Mapping[str, str]) -> str | None:
    """The env value, or the contents of the file named by the ``_FILE`` variant (for secrets)."""
    name = env_name(setting.name)
    if name in env:
        return env[name]
    file_name = env.get(name + "_FILE")
    if file_name:
        try:
            return Path(file_name).read_text().strip()
        except OSError as err:
            raise ConfigError(
                f"{name}_FILE names {file_name!r}, which cannot be read: {err}"
            ) from err
    return None


def dump_settings(settings: Settings) -> dict[str, Any]:
    """The settings as a plain dict, with secrets masked (for ``config --show``)."""
    shown: dict[str, Any] = {}
    for setting in SETTINGS:
        value = getattr(settings, setting.name)
        shown[setting.name] = _mask(value) if setting.secret and value else value
    return shown


def _mask(value: str) -> str:
    # Keep the scheme and host of a database URL visible, hide credentials.
    if "://" in value and "@" in value:
        scheme, rest = value.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return value if "://" in value or "/" in value else "***"


def settings_markdown() -> str:
    """The settings reference (docs/configuration.md), generated from the table."""
    lines = [
        "# Configuration",
        "",
        "<!-- Generated by `primenews config --markdown`; edit SETTINGS in config.py instead. -->",
        "",
        "Values are read as defaults < `primenews.toml` (in the working folder, or the file named",
        "by `PRIMENEWS_CONFIG` / `--config`) < `PRIMENEWS_*` environment variables < command-line",
        "flags (`--set name=value` sets any of them). Any setting can also be read from a file",
        "named by `PRIMENEWS_<NAME>_FILE` (for secrets). A bad value stops the program at start",
        "with the setting's name, the value and what is allowed.",
        "",
        "| setting | environment variable | type | default | meaning |",
        "| --- | --- | --- | --- | --- |",
    ]
    for setting in SETTINGS:
        default = "*(per user)*" if setting.name == "data_dir" else f"`{setting.default!r}`"
        lines.append(
            f"| `{setting.name}` | `{env_name(setting.name)}` | {setting.type.__name__} "
            f"| {default} | {setting.help} |"
        )
    lines += [
        "",
        "`data_dir` defaults to `$XDG_DATA_HOME/primenews` (`~/.local/share/primenews`).",
        "",
        "Example `primenews.toml`:",
        "",
        "```toml",
        'database = "/srv/primenews/news.sqlite3"',
        "port = 8080",
        "poll_min_interval_minutes = 10",
        "```",
        "",
    ]
    return "\n".join(lines)
