"""RDF graphs as text that is the same, byte for byte, every time (rdflib writes RDF/XML
namespace declarations and JSON-LD nodes in hash order, which changes between processes).

The graphs are expected in rdflib's insertion-ordered `SimpleMemory` store, as
`mappings.dcat` builds them; then Turtle needs no help (rdflib sorts it). Pure: strings in,
strings out.
"""
from __future__ import annotations

import json
import re
from typing import Any, Callable

from rdflib import RDF, XSD, BNode, Graph, Literal
from rdflib.term import Node

_LOCAL = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def rdfxml(graph: Graph) -> str:
    """RDF/XML (rdflib's pretty-xml) with its namespace declarations sorted."""
    text = graph.serialize(format="pretty-xml")
    head, sep, rest = text.partition("\n>\n")
    first, *declarations = head.split("\n")
    i = next(n for n, line in enumerate(declarations) if line.startswith("  xmlns:"))
    return "\n".join([first, *declarations[:i], *sorted(declarations[i:])]) + sep + rest


def jsonld(graph: Graph, prefixes: dict[str, str], first: str) -> str:
    """Flattened JSON-LD with `prefixes` as its context: the node `first` leads, the others
    follow by `@id`; keys and types are compact IRIs, node references full IRIs, and a
    property with one value has it without a list. Compact JSON (no indentation: the
    indenting encoder is pure Python and would cost a quarter of the time). Nothing for a
    reader to fetch."""
    order = sorted(prefixes.items(), key=lambda item: -len(item[1]))
    names: dict[Node, str] = {}

    def compact(iri: Node) -> str:
        if iri not in names:
            names[iri] = _compact(iri, order)
        return names[iri]

    nodes: dict[str, dict[str, list[Any]]] = {}
    for s, p, o in graph:
        node = nodes.setdefault(_node_id(s), {})
        if p == RDF.type:
            node.setdefault("@type", []).append(compact(o))
        else:
            node.setdefault(compact(p), []).append(_value(o, compact))
    out = [{"@id": nid, **{k: v[0] if len(v) == 1 else v for k, v in props.items()}}
           for nid, props in sorted(nodes.items(), key=lambda n: (n[0] != first, n[0]))]
    return json.dumps({"@context": prefixes, "@graph": out}, ensure_ascii=False,
                      separators=(",", ":"))


def _node_id(node: Node) -> str:
    return f"_:{node}" if isinstance(node, BNode) else str(node)


def _compact(iri: Node, order: list[tuple[str, str]]) -> str:
    text = str(iri)
    for prefix, ns in order:
        if text.startswith(ns) and _LOCAL.match(text[len(ns):]):
            return f"{prefix}:{text[len(ns):]}"
    return text


def _value(node: Node, compact: Callable[[Node], str]) -> Any:
    if not isinstance(node, Literal):
        return {"@id": _node_id(node)}
    if node.language:
        return {"@value": str(node), "@language": node.language}
    if node.datatype is not None and node.datatype != XSD.string:
        return {"@value": str(node), "@type": compact(node.datatype)}
    return str(node)
