"""Small lxml helpers shared by the XML renderers (DataCite, Dublin Core, OpenAIRE).

Renderers build trees with `lxml.etree` directly (no templates, no per-call schema work)
and serialise them with `serialize`: UTF-8 text without an XML declaration, so OAI-PMH can
embed the result in its envelope and content negotiation can serve it as it is.
"""
from __future__ import annotations

import re

from lxml import etree

XSI = "http://www.w3.org/2001/XMLSchema-instance"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
SCHEMA_LOCATION = f"{{{XSI}}}schemaLocation"

# Everything XML 1.0 cannot hold: C0 controls other than tab/LF/CR, lone surrogates,
# U+FFFE and U+FFFF. lxml refuses such text, so it is dropped, not escaped.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean(text: object) -> str:
    """`text` as a string XML 1.0 can hold (characters it cannot are removed)."""
    value = text if isinstance(text, str) else str(text)
    return _NOT_XML.sub("", value)


_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_ATTR = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
                       "\t": "&#9;", "\n": "&#10;", "\r": "&#13;"})


def xml_text(value: str) -> str:
    """`value` as character data of XML written as text (not through lxml): cleaned of
    what XML 1.0 cannot hold, then escaped."""
    return clean(value).translate(_TEXT)


def xml_attr(value: str) -> str:
    """`value` as a double-quoted attribute value of XML written as text: cleaned, then
    escaped (tab, newline and carriage return as references, so they survive
    attribute-value normalisation)."""
    return clean(value).translate(_ATTR)


def sub(parent: etree._Element, tag: str, text: str | None = None,
        attrib: dict[str, str] | None = None) -> etree._Element:
    """Append a child element; `text` and attribute values must already be clean."""
    child = etree.SubElement(parent, tag, attrib) if attrib else etree.SubElement(parent, tag)
    if text is not None:
        child.text = text
    return child


def root(tag: str, nsmap: dict[str | None, str], schema_location: str) -> etree._Element:
    """A root element with its namespaces and `xsi:schemaLocation`."""
    return etree.Element(tag, {SCHEMA_LOCATION: schema_location}, nsmap={**nsmap, "xsi": XSI})


def serialize(element: etree._Element) -> str:
    """The element as text, without an XML declaration."""
    return etree.tostring(element, encoding="unicode")
