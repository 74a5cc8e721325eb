"""`create_app(config)`: the Flask application. One blueprint per surface."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from flask import Flask

from . import errors
from .api import bp as api_bp
from .config import Config, load_config
from .context import EXTENSION, Gateway
from .federation import bp as federation_bp
from .oai import bp as oai_bp
from .panosc.views import bp as panosc_bp
from .pages import BLUEPRINTS as page_blueprints


def create_app(config: Config | dict[str, Any] | None = None, *,
               clock: Callable[[], datetime] | None = None) -> Flask:
    """Build the app. `config` is a `Config`, a dict of config keys, or None (load from the
    file/environment). `clock` replaces the wall clock (tests)."""
    if not isinstance(config, Config):
        config = load_config(**(config or {}))
    app = Flask(__name__)
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    app.extensions[EXTENSION] = Gateway.open(config, clock)
    errors.init_app(app)
    app.register_blueprint(api_bp)
    app.register_blueprint(oai_bp)
    app.register_blueprint(panosc_bp)
    app.register_blueprint(federation_bp)
    for blueprint in page_blueprints:
        app.register_blueprint(blueprint)
    return app
