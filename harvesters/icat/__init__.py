"""Harvesting ICAT catalogues over the REST API: `IcatHarvester` (events for the runner),
`IcatClient` (login, search, retries), typed errors, the JPQL in `queries`, deletion
detection in `reconcile`. See docs/icat.md."""
from .client import Credentials, IcatClient
from .errors import (BadParameterError, IcatError, IcatUnavailable, InsufficientPrivilegesError,
                     InternalError, NoSuchObjectError, NotImplementedByServer,
                     ObjectAlreadyExistsError, SessionError, ValidationError)
from .harvester import IcatHarvester
from .reconcile import EmptySource

__all__ = ["Credentials", "IcatClient", "IcatHarvester", "EmptySource", "IcatError",
           "IcatUnavailable", "SessionError", "ValidationError", "BadParameterError",
           "InsufficientPrivilegesError", "NoSuchObjectError", "ObjectAlreadyExistsError",
           "InternalError", "NotImplementedByServer"]
