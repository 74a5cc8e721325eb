"""A stand-in for an ICAT 6.2 REST server (icat-rest.md §§1-9, 14-15), for the ICAT harvester's
tests and benchmark. See `server.IcatStandin`."""
from .server import IcatStandin

__all__ = ["IcatStandin"]
