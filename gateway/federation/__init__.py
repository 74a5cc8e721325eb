"""Federated search: this gateway's PaNOSC Search API and its partners' queried at once and
merged correctly (docs/federation.md). Pure parts: ordering, plan, merge, breaker; I/O:
providers, federator (the fan-out), views (the `/federation` blueprint)."""
from .views import bp

__all__ = ["bp"]
