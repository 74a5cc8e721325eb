"""Configuration: defaults, then a `fairgate.toml` file, then `FAIRGATE_*` environment variables.

Every key is documented in docs/configuration.md (a test keeps the two in step).
"""
from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit

ENV_PREFIX = "FAIRGATE_"
DEFAULT_FILE = "fairgate.toml"
INDEX_BACKENDS = ("embedded", "elasticsearch")
_ES_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,100}")
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/?#@\s]*@")
SECRET_KEYS = ("elasticsearch_api_key", "secret_key")  # never shown (repr, status, messages)
REPOSITORY_ID_RE = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9\-]*(\.[a-zA-Z0-9][a-zA-Z0-9\-]*)+")
_EMAIL = re.compile(r"\S+@(\S+\.)+\S+")  # OAI-PMH.xsd's adminEmail pattern
_SECRET_OPTION = re.compile(r"(?i)password|secret|token|api_?key|credential")


def redact_url(text: str) -> str:
    """`text` with the user-info (`user:password@`) of every URL in it removed: for every
    message, log line, report and status that names a configured URL."""
    return _USERINFO.sub(r"\1", text)


class ConfigError(ValueError):
    """A configuration file or value that cannot be used; the message says which and why."""


@dataclass
class Config:
    data_dir: Path = Path("var")
    host: str = "127.0.0.1"
    port: int = 8000
    base_url: str = ""  # public URL of the gateway; default http://{host}:{port}
    index: str = "embedded"
    elasticsearch_url: str = "http://127.0.0.1:9200"
    elasticsearch_index: str = "fairgate"
    elasticsearch_timeout: float = 5.0
    elasticsearch_retries: int = 2
    elasticsearch_api_key: str = ""
    elasticsearch_ca_certs: str = ""
    batch_size: int = 500
    page_size: int = 20
    max_page_size: int = 100
    repository_name: str = "FAIRgate"  # OAI-PMH repositoryName; catalogue name in DCAT/schema.org
    admin_email: str = ""  # a functional mailbox (OAI-PMH adminEmail, DCAT contact point)
    datacentre_symbol: str = "FAIRGATE"  # oai_datacite datacentreSymbol
    secret_key: str = ""  # signs OAI-PMH resumption tokens; default: a random key in data_dir
    repository_identifier: str = ""  # OAI-PMH oai-identifier domain; default: base_url's host
    oai_page_size: int = 100  # records (headers) per OAI-PMH list response
    techniques_vocabulary: str = ""  # PaNET .owl/.csv file; "" = esrf-ontologies' flat list
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    federation_timeout: float = 5.0  # seconds; a partner's own `timeout` wins
    federation_default_limit: int = 100
    federation_max_window: int = 1000  # largest skip + limit of a federated search
    federation_failure_threshold: int = 3
    federation_cooldown: float = 30.0  # seconds a failing partner is skipped
    partners: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __repr__(self) -> str:
        """No secrets: URLs without their user-info, API keys masked."""
        shown = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in SECRET_KEYS and value:
                value = "***"
            elif isinstance(value, str):
                value = redact_url(value)
            elif f.name == "partners":
                value = {name: {k: (redact_url(v) if isinstance(v, str) else v)
                                for k, v in options.items()} if isinstance(options, dict)
                         else options for name, options in value.items()}
            elif f.name == "sources":
                value = {name: {k: ("***" if _SECRET_OPTION.search(k) else v)
                                for k, v in options.items()} if isinstance(options, dict)
                         else options for name, options in value.items()}
            shown.append(f"{f.name}={value!r}")
        return f"Config({', '.join(shown)})"

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir)
        self.base_url = self.base_url.rstrip("/")
        if self.index not in INDEX_BACKENDS:
            raise ConfigError(f"index: unknown backend {self.index!r} "
                              f"(available: {', '.join(INDEX_BACKENDS)})")
        if not _ES_NAME.fullmatch(self.elasticsearch_index):
            raise ConfigError(f"elasticsearch_index: {self.elasticsearch_index!r} is not a valid "
                              "name (lower case letters, digits, '-' and '_')")
        if not self.elasticsearch_timeout > 0:
            raise ConfigError("elasticsearch_timeout: must be a positive number of seconds")
        if self.elasticsearch_retries < 0:
            raise ConfigError("elasticsearch_retries: must be 0 or more")
        if (self.repository_identifier
                and not REPOSITORY_ID_RE.fullmatch(self.repository_identifier)):
            raise ConfigError(f"repository_identifier: {self.repository_identifier!r} is not a "
                              "domain name with at least one dot (e.g. data.example.org)")
        if self.admin_email and not _EMAIL.fullmatch(self.admin_email):
            raise ConfigError(f"admin_email: {self.admin_email!r} is not an e-mail address")
        if not 1 <= self.oai_page_size <= 1000:
            raise ConfigError("oai_page_size: must be between 1 and 1000")
        for name, options in self.sources.items():
            if not isinstance(options, dict) or "type" not in options:
                raise ConfigError(f"sources.{name}: a table with at least a 'type' key")
        _check_federation(self)

    @property
    def public_url(self) -> str:
        """The gateway's public URL: `base_url`, else http://{host}:{port}."""
        return self.base_url or f"http://{self.host}:{self.port}"

    @property
    def store_path(self) -> Path:
        return self.data_dir / "store.sqlite"

    @property
    def panosc_path(self) -> Path:
        return self.data_dir / "panosc.sqlite"

    @property
    def index_path(self) -> Path:
        return self.data_dir / "index.sqlite"


TABLE_KEYS = ("sources", "partners")
PARTNER_OPTIONS = {"url", "timeout", "name", "homepage"}
_PARTNER_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")


def _http_url(value: Any) -> bool:
    parts = urlsplit(value) if isinstance(value, str) else None
    return bool(parts and parts.scheme in ("http", "https") and parts.hostname)


def _check_federation(config: Config) -> None:
    """The `federation_*` keys and every `[partners.NAME]` table (docs/federation.md)."""
    if not config.federation_timeout > 0 or not config.federation_cooldown >= 0:
        raise ConfigError("federation_timeout must be > 0 and federation_cooldown >= 0 seconds")
    if not 1 <= config.federation_default_limit <= config.federation_max_window:
        raise ConfigError("federation_default_limit must be between 1 and "
                          "federation_max_window")
    if config.federation_failure_threshold < 1:
        raise ConfigError("federation_failure_threshold must be 1 or more")
    from .panosc.filters import MAX_LIMIT  # the local provider is asked for the whole window
    if config.federation_max_window > MAX_LIMIT:
        raise ConfigError(f"federation_max_window must be at most {MAX_LIMIT} (the largest "
                          "limit of this gateway's own /api, which is asked for the window)")
    for name, options in config.partners.items():
        where = f"partners.{name}"
        if not _PARTNER_NAME.fullmatch(name) or name == "local":
            raise ConfigError(f"{where}: a partner name is lower case letters, digits, '-' "
                              "and '_', and not 'local' (the gateway itself)")
        if not isinstance(options, dict):
            raise ConfigError(f"{where}: a table with at least a 'url' key")
        unknown = set(options) - PARTNER_OPTIONS
        if unknown:
            raise ConfigError(f"{where}: unknown option(s): {', '.join(sorted(unknown))}")
        if not _http_url(options.get("url")):
            raise ConfigError(f"{where}.url: an http:// or https:// URL of the partner's "
                              "PaNOSC API base (…/api) is required")
        if "homepage" in options and not _http_url(options["homepage"]):
            raise ConfigError(f"{where}.homepage: not an http:// or https:// URL")
        timeout = options.get("timeout", config.federation_timeout)
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            raise ConfigError(f"{where}.timeout: a positive number of seconds")
        if not isinstance(options.get("name", ""), str):
            raise ConfigError(f"{where}.name: a string")


SCALAR_KEYS = {f.name: f.type for f in fields(Config) if f.name not in TABLE_KEYS}


def _coerce(key: str, value: Any) -> Any:
    kind = SCALAR_KEYS[key]
    try:
        if kind == "int":
            return int(value)
        if kind == "float":
            return float(value)
        return value
    except (TypeError, ValueError):
        noun = "whole number" if kind == "int" else "number"
        raise ConfigError(f"{key}: {value!r} is not a {noun}") from None


def load_config(path: str | os.PathLike[str] | None = None,
                env: Mapping[str, str] | None = None, **overrides: Any) -> Config:
    """Build the configuration. `path` (or FAIRGATE_CONFIG, or ./fairgate.toml if present)
    is read first; FAIRGATE_<KEY> environment variables win over it; `overrides` win over all.
    A relative `data_dir` or source `root` is taken relative to the config file's folder."""
    env = os.environ if env is None else env
    path = path or env.get(ENV_PREFIX + "CONFIG") or (
        DEFAULT_FILE if Path(DEFAULT_FILE).exists() else None)
    values: dict[str, Any] = {}
    if path:
        values = _read_toml(Path(path))
    for key in SCALAR_KEYS:
        if (ENV_PREFIX + key.upper()) in env:
            values[key] = env[ENV_PREFIX + key.upper()]
    values.update({k: v for k, v in overrides.items() if v is not None})
    unknown = set(values) - set(SCALAR_KEYS) - set(TABLE_KEYS)
    if unknown:
        raise ConfigError(f"unknown configuration key(s): {', '.join(sorted(unknown))}")
    values = {k: (_coerce(k, v) if k in SCALAR_KEYS else v) for k, v in values.items()}
    return Config(**values)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            values = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"configuration file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    base = path.resolve().parent
    if "data_dir" in values:
        values["data_dir"] = base / values["data_dir"]
    if values.get("techniques_vocabulary"):
        values["techniques_vocabulary"] = str(base / values["techniques_vocabulary"])
    for options in values.get("sources", {}).values():
        if isinstance(options, dict) and "root" in options:
            options["root"] = str(base / options["root"])
    return values
