"""Defaults and environment for the app factory.

Order of precedence, lowest first: the defaults below, the environment
(API.md, Configuration), secrets kept in the instance folder, and the
``test_config`` mapping handed to :func:`agnozys.create_app`.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

DEFAULTS: dict[str, Any] = {
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "WTF_CSRF_TIME_LIMIT": None,
    "BABEL_DEFAULT_LOCALE": "pt_BR",
    "BABEL_DEFAULT_TIMEZONE": "America/Sao_Paulo",
    "MAX_CONTENT_LENGTH": 11 * 1024 * 1024,
    "AGNOZYS_BASE_URL": "http://127.0.0.1:5000",
    "AGNOZYS_GATEWAY": "sandbox",
    "AGNOZYS_NOTIFIERS": "outbox",
    "AGNOZYS_ACCESS_BLOCKER": "log",
    "AGNOZYS_ACCESS_WEBHOOK_URL": None,
    "AGNOZYS_ACCESS_WEBHOOK_SECRET": None,
    "AGNOZYS_PLUGINS": "",
    "REDIS_URL": None,
    "PAGE_SIZE": 50,
}

# Environment variables read as they are (API.md), plus a few of our own.
ENVIRONMENT = (
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "AGNOZYS_BASE_URL",
    "AGNOZYS_GATEWAY",
    "AGNOZYS_SANDBOX_SECRET",
    "AGNOZYS_NOTIFIERS",
    "AGNOZYS_ACCESS_BLOCKER",
    "AGNOZYS_ACCESS_WEBHOOK_URL",
    "AGNOZYS_ACCESS_WEBHOOK_SECRET",
    "AGNOZYS_PLUGINS",
    "AGNOZYS_UPLOAD_DIR",
    "AGNOZYS_SMTP_HOST",
    "AGNOZYS_SMTP_PORT",
    "AGNOZYS_SMTP_SECURITY",
    "AGNOZYS_SMTP_USERNAME",
    "AGNOZYS_SMTP_PASSWORD",
    "AGNOZYS_SMTP_SENDER",
    "AGNOZYS_SMTP_TIMEOUT",
    "AGNOZYS_SMTP_CA_FILE",
    "AGNOZYS_ZENVIA_TOKEN",
    "AGNOZYS_ZENVIA_FROM",
    "AGNOZYS_ZENVIA_BASE_URL",
    "AGNOZYS_ZENVIA_TIMEOUT",
    "AGNOZYS_REMINDER_RETRY_DELAYS",
    "AGNOZYS_REMINDER_LEASE_SECONDS",
    "AGNOZYS_REMINDER_BATCH",
    "AGNOZYS_PIX_KEY",
    "AGNOZYS_PIX_MERCHANT_NAME",
    "AGNOZYS_PIX_MERCHANT_CITY",
)


def instance_secret(instance_path: str, name: str) -> str:
    """Return the secret kept in ``instance/<name>``, creating it once.

    The file is written with ``O_EXCL`` so two processes starting at once
    end up with the same secret: the loser reads what the winner wrote.
    """
    path = Path(instance_path) / name
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(value)
    return value


def load(instance_path: str, test_config: dict[str, Any] | None) -> dict[str, Any]:
    """Build the configuration mapping for one app instance."""
    config = dict(DEFAULTS)
    config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + str(
        Path(instance_path) / "agnozys.sqlite3"
    )
    for name in ENVIRONMENT:
        value = os.environ.get(name)
        if value not in (None, ""):
            config[name] = value
    if "DATABASE_URL" in config:
        config["SQLALCHEMY_DATABASE_URI"] = normalize_database_url(
            config.pop("DATABASE_URL")
        )
    if test_config:
        config.update(test_config)
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = instance_secret(instance_path, "secret_key")
    if not config.get("AGNOZYS_SANDBOX_SECRET"):
        config["AGNOZYS_SANDBOX_SECRET"] = instance_secret(
            instance_path, "sandbox_secret"
        )
    config.setdefault("AGNOZYS_UPLOAD_DIR", str(Path(instance_path) / "uploads"))
    check_numbers(config)
    return config


class ConfigError(ValueError):
    """A setting that cannot be used; the message names it."""


#: Settings that must be whole numbers, with the smallest value allowed.
WHOLE_NUMBERS = {
    "AGNOZYS_REMINDER_LEASE_SECONDS": 0,
    "AGNOZYS_REMINDER_BATCH": 1,
}


def check_numbers(config: dict[str, Any]) -> None:
    """Refuse start-up on a numeric setting that is not a usable number."""
    for name, smallest in WHOLE_NUMBERS.items():
        if name in config:
            _whole(name, config[name], smallest)
    delays = config.get("AGNOZYS_REMINDER_RETRY_DELAYS")
    if isinstance(delays, str):
        for part in delays.split(","):
            if part.strip():
                _whole("AGNOZYS_REMINDER_RETRY_DELAYS", part, 0)


def _whole(name: str, value: Any, smallest: int) -> None:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ConfigError(f"{name}: {value!r} não é um número inteiro.") from None
    if number < smallest:
        raise ConfigError(f"{name}: {number} é menor que o mínimo, {smallest}.")


def normalize_database_url(url: str) -> str:
    """Make ``postgres://`` and ``postgresql://`` URLs use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
