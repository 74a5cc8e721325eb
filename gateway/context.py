"""The wired application objects (store, index, clock) that one gateway instance uses.

Built explicitly by `create_app` and the CLI; nothing is created at import time.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from .clock import utcnow
from .config import Config
from .index import SearchIndex
from .index.embedded import EmbeddedIndex
from .store import Store


@dataclass
class Gateway:
    config: Config
    store: Store
    index: SearchIndex
    clock: Callable[[], datetime] = utcnow

    @classmethod
    def open(cls, config: Config, clock: Callable[[], datetime] | None = None) -> "Gateway":
        return cls(config=config, store=Store(config.store_path),
                   index=EmbeddedIndex(config.index_path), clock=clock or utcnow)

    def close(self) -> None:
        self.store.close()
        self.index.close()
