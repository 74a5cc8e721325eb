"""The OAI-PMH response text, assembled as strings.

Each record's metadata is the renderer's own XML text (`mappings.formats`), embedded as it
is: parsing it back into a tree only to serialise it again would cost more than rendering.
Everything else here is text inside fixed markup, cleaned of the characters XML 1.0 cannot
hold and escaped (`mappings.xmlutil.xml_text`/`xml_attr`), so the response stays
well-formed whatever a harvested name or a request holds (the tests validate every response
type against the official XSDs).
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterable

from mappings.record import iso
from mappings.xmlutil import xml_attr, xml_text

OAI = "http://www.openarchives.org/OAI/2.0/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
OAI_IDENTIFIER = "http://www.openarchives.org/OAI/2.0/oai-identifier"
_OPEN = (f'<?xml version="1.0" encoding="UTF-8"?>\n<OAI-PMH xmlns="{OAI}" xmlns:xsi="{XSI}" '
         f'xsi:schemaLocation="{OAI} http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd">')
def element(name: str, value: str) -> str:
    return f"<{name}>{xml_text(value)}</{name}>"


def response(now: datetime, base_url: str, request: dict[str, str] | None,
             body: Iterable[str]) -> str:
    """The whole response: envelope, responseDate (seconds, no fraction), the request
    echo (`request` None: the base URL only) and `body`."""
    attrs = "".join(f' {k}="{xml_attr(v)}"' for k, v in (request or {}).items())
    return "".join((_OPEN, f"<responseDate>{iso(now)}</responseDate>",
                    f"<request{attrs}>{xml_text(base_url)}</request>", *body, "</OAI-PMH>"))


def error(code: str, message: str) -> str:
    return f'<error code="{code}">{xml_text(message)}</error>'


def header(identifier: str, datestamp: datetime, sets: Iterable[str], deleted: bool) -> str:
    status = ' status="deleted"' if deleted else ""
    specs = "".join(f"<setSpec>{s}</setSpec>" for s in sets)  # setSpecs need no escaping
    return (f"<header{status}><identifier>{xml_text(identifier)}</identifier>"
            f"<datestamp>{iso(datestamp)}</datestamp>{specs}</header>")


def record(head: str, metadata: str | None) -> str:
    if metadata is None:
        return f"<record>{head}</record>"
    return f"<record>{head}<metadata>{metadata}</metadata></record>"


def resumption_token(token: str, *, cursor: int, total: int,
                     expires: datetime | None) -> str:
    """The token element; `token` '' on the last page of a multi-page list."""
    expiry = f' expirationDate="{iso(expires)}"' if expires is not None else ""
    return (f'<resumptionToken{expiry} completeListSize="{total}" cursor="{cursor}">'
            f"{xml_text(token)}</resumptionToken>")


def oai_identifier(repository: str, sample: str) -> str:
    """Identify's oai-identifier description."""
    return (f'<description><oai-identifier xmlns="{OAI_IDENTIFIER}" xsi:schemaLocation='
            f'"{OAI_IDENTIFIER} http://www.openarchives.org/OAI/2.0/oai-identifier.xsd">'
            f"<scheme>oai</scheme>{element('repositoryIdentifier', repository)}"
            f"<delimiter>:</delimiter>{element('sampleIdentifier', sample)}"
            "</oai-identifier></description>")
