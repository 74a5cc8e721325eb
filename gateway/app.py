"""`create_app(config)`: the Flask application. One blueprint per surface."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from flask import Flask

from . import errors
from .api import bp as api_bp
from .config import Config, load_config
from .context import Gateway


def create_app(config: Config | dict[str, Any] | None = None, *,
               clock: Callable[[], datetime] | None = None) -> Flask:
    """Build the app. `config` is a `Config`, a dict of config keys, or None (load from the
    file/environment). `clock` replaces the wall clock (tests)."""
    if not isinstance(config, Config):
        config = load_config(**(config or {}))
    app = Flask(__name__)
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    app.extensions["fairgate"] = Gateway.open(config, clock)
    errors.init_app(app)
    app.register_blueprint(api_bp)
    return app
