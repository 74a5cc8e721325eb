"""The technique vocabulary (PaNET): a class hierarchy to make technique queries *deep*.

`load_techniques(path)` reads the configured vocabulary file once per gateway:

- `.owl` / `.rdf` / `.ttl`: an OWL ontology such as a PaNET release, read with rdflib. Named
  `rdfs:subClassOf` and `owl:equivalentClass` axioms are used, and the named members of an
  `owl:intersectionOf` a class is equivalent to (a release is already reasoned).
- `.csv`: the PaNET source table (`source/PaNET.csv`, a ROBOT template: the second row says what
  each column holds). Its `EC` columns define most classes as intersections of other classes
  and `'definedbyprobe' some 'x-ray'`-style restrictions, and PaNET's OWL is built from it by
  a reasoner. `_classify` does the part of that reasoning that places named classes (EL
  structural subsumption, to a fixed point), so `x-ray probe` falls under `photon probe`
  because `x-ray` falls under `photon`.
- None: the flat term list packaged with `esrf-ontologies` (PaNET and ESRFET terms with their
  synonyms, no hierarchy): every technique is only its own descendant.

Why a hierarchy: the PaNOSC Search API asks that a query for a technique also finds datasets
tagged with any of its descendants (../shared/reference/panosc-search-api.md, Techniques).
"""
from __future__ import annotations

import csv
import hashlib
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

PANET = "http://purl.org/pan-science/PaNET/"
_PANET_ID = re.compile(r"(?i)^(?:.*[/#:])?(panet\d{5,7})$")
_SPACES = re.compile(r"\s+")


class VocabularyError(ValueError):
    """A vocabulary file that cannot be read; the message names the file and the problem."""


def _key(text: str) -> str:
    return _SPACES.sub(" ", text.strip()).casefold()


@dataclass(frozen=True, eq=False)
class Techniques:
    """An immutable technique hierarchy. Every set returned includes the IRI asked about;
    an IRI the vocabulary does not know is only its own ancestor and descendant."""

    labels: Mapping[str, str]
    _ancestors: Mapping[str, frozenset[str]]
    _descendants: Mapping[str, frozenset[str]]
    _terms: Mapping[str, frozenset[str]]  # casefolded IRI / id / label / synonym -> IRIs
    version: str = field(default="")

    def descendants(self, iri: str) -> frozenset[str]:
        return self._descendants.get(iri) or frozenset((iri,))

    def ancestors(self, iri: str) -> frozenset[str]:
        return self._ancestors.get(iri) or frozenset((iri,))

    def label(self, iri: str) -> str | None:
        return self.labels.get(iri)

    def find(self, term: str) -> frozenset[str]:
        """The IRIs whose IRI, PaNET id ("PaNET01189", "PaNET:PaNET01189"), label or
        synonym equals `term`, ignoring case and repeated spaces."""
        key = _key(term)
        found = self._terms.get(key)
        if found is None and (m := _PANET_ID.match(key)):
            found = self._terms.get(m.group(1))
        return found or frozenset()

    def __len__(self) -> int:
        return len(self.labels)


def build(labels: Mapping[str, str], parents: Mapping[str, Iterable[str]],
          synonyms: Mapping[str, Iterable[str]] | None = None) -> Techniques:
    """A `Techniques` from labels, direct parents (cycles allowed: an equivalence is a
    two-way parent link) and synonyms. Pure; the loaders below all end here."""
    nodes = set(labels) | set(parents) | {p for ps in parents.values() for p in ps}
    up = {n: set(parents.get(n, ())) for n in nodes}
    ancestors = {n: frozenset(a) for n, a in _closure(up).items()}
    down: dict[str, set[str]] = {n: set() for n in nodes}
    for n, ups in ancestors.items():
        for a in ups:
            down[a].add(n)
    terms: dict[str, set[str]] = {}
    for iri in nodes:
        names = [iri, labels.get(iri, ""), *((synonyms or {}).get(iri, ()))]
        if m := _PANET_ID.match(iri):
            names.append(m.group(1))
        for name in filter(None, names):
            terms.setdefault(_key(name), set()).add(iri)
    digest = hashlib.sha256("\n".join(
        f"{n}\t{labels.get(n, '')}\t{' '.join(sorted(up[n]))}" for n in sorted(nodes)
    ).encode()).hexdigest()[:16]
    return Techniques(labels=dict(labels), _ancestors=ancestors,
                      _descendants={n: frozenset(d) for n, d in down.items()},
                      _terms={k: frozenset(v) for k, v in terms.items()}, version=digest)


def load_techniques(path: str | os.PathLike[str] | None) -> Techniques:
    """The vocabulary in `path` (see the module docstring), or the packaged flat list when
    `path` is None. Raises VocabularyError for a missing or unreadable file. Cached per path
    and modification time: loading the CSV takes about a second."""
    if path is None:
        return _flat()
    p = Path(path)
    try:
        mtime = p.stat().st_mtime_ns
    except OSError as exc:
        raise VocabularyError(f"techniques vocabulary {p}: {exc.strerror or exc}") from None
    return _load_file(str(p.resolve()), mtime)


@lru_cache(maxsize=8)
def _load_file(path: str, mtime: int) -> Techniques:
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return _from_csv(Path(path))
    if suffix in (".owl", ".rdf", ".xml", ".ttl", ".nt"):
        return _from_owl(Path(path))
    raise VocabularyError(f"techniques vocabulary {path}: unknown file type {suffix!r} "
                          "(expected .owl, .rdf, .ttl or the PaNET .csv)")


@lru_cache(maxsize=1)
def _flat() -> Techniques:
    """The PaNET and ESRFET terms packaged with esrf-ontologies, without hierarchy."""
    from esrf_ontologies.db import load_techniques as packaged

    labels: dict[str, str] = {}
    synonyms: dict[str, list[str]] = {}
    for name in ("PaNET", "ESRFET"):
        for item in packaged(name):
            names = [n for n in item.get("names", ()) if n]
            if not names:
                continue
            labels[item["iri"]] = max(names, key=len)  # the spelt-out name, not the acronym
            synonyms[item["iri"]] = names
    return build(labels, {}, synonyms)


# --- OWL --------------------------------------------------------------------------------

def _from_owl(path: Path) -> Techniques:
    import rdflib
    from rdflib.collection import Collection
    from rdflib.namespace import OWL, RDF, RDFS, SKOS

    graph = rdflib.Graph()
    try:
        graph.parse(path, format="turtle" if path.suffix.lower() == ".ttl" else
                    "nt" if path.suffix.lower() == ".nt" else "xml")
    except Exception as exc:  # rdflib raises many parser-specific types
        raise VocabularyError(f"techniques vocabulary {path}: {exc}") from None
    named = {str(c) for c in graph.subjects(RDF.type, OWL.Class) if isinstance(c, rdflib.URIRef)}
    parents: dict[str, set[str]] = {c: set() for c in named}

    def members(node: rdflib.term.Node) -> list[str]:
        """Named classes an anonymous class expression is a subclass of (intersections)."""
        found: list[str] = []
        for lst in graph.objects(node, OWL.intersectionOf):
            for m in Collection(graph, lst):
                found += [str(m)] if isinstance(m, rdflib.URIRef) else members(m)
        return found

    for c in named:
        ref = rdflib.URIRef(c)
        for sup in graph.objects(ref, RDFS.subClassOf):
            parents[c].update([str(sup)] if isinstance(sup, rdflib.URIRef) else members(sup))
        for eq in [*graph.objects(ref, OWL.equivalentClass),
                   *graph.subjects(OWL.equivalentClass, ref)]:
            if isinstance(eq, rdflib.URIRef):
                if str(eq) in named:  # a two-way link: the same descendants
                    parents[c].add(str(eq))
                    parents.setdefault(str(eq), set()).add(c)
            else:
                parents[c].update(members(eq))
    parents = {c: {p for p in ps if p in named and p != c} for c, ps in parents.items()}
    labels = {c: str(next(graph.objects(rdflib.URIRef(c), RDFS.label), "")) for c in named}
    synonyms = {c: [str(s) for s in graph.objects(rdflib.URIRef(c), SKOS.altLabel)]
                for c in named}
    return build({c: lab for c, lab in labels.items() if lab}, parents, synonyms)


# --- PaNET CSV (ROBOT template) ------------------------------------------------------------

_TOKEN = re.compile(r"'[^']*'|\(|\)|https?://[^\s()]+|[A-Za-z][\w.-]*:[\w.-]+|[^\s'()]+")


@dataclass
class _Class:
    parents: set[str] = field(default_factory=set)       # told named superclasses
    some: set[tuple[str, str]] = field(default_factory=set)  # told (property, filler)
    definitions: list[tuple[frozenset[str], frozenset[tuple[str, str]]]] = field(
        default_factory=list)  # one per row with EC cells (a row = one axiom)


def _from_csv(path: Path) -> Techniques:
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise VocabularyError(f"techniques vocabulary {path}: {exc}") from None
    template = next((r for r in rows if "ID" in r and any(c.startswith("SC") for c in r)), None)
    if template is None:
        raise VocabularyError(f"techniques vocabulary {path}: not a ROBOT template "
                              "(no row with ID and 'SC %' columns)")
    col = {name: [i for i, c in enumerate(template) if test(c)] for name, test in {
        "id": lambda c: c == "ID", "label": lambda c: c == "A rdfs:label",
        "alt": lambda c: c.startswith("A ") and "altLabel" in c, "type": lambda c: c == "TYPE",
        "sc": lambda c: c.startswith("SC"), "ec": lambda c: c.startswith("EC")}.items()}
    start = rows.index(template) + 1
    data = [r + [""] * (len(template) - len(r)) for r in rows[start:]]
    data = [r for r in data if r[col["id"][0]].startswith("http")]
    kinds = {r[col["id"][0]]: r[col["type"][0]] for r in data
             if col["type"] and r[col["type"][0]]}
    labels = {r[col["id"][0]]: r[col["label"][0]].strip() for r in data
              if kinds.get(r[col["id"][0]], "owl:Class") == "owl:Class"
              and r[col["label"][0]].strip()}
    resolve = _resolver(labels)
    domains = _domains(template, data, kinds, resolve)
    data = [r for r in data if r[col["id"][0]] in labels]
    classes: dict[str, _Class] = {}
    for r in data:
        c = classes.setdefault(r[col["id"][0]], _Class())
        spec = _is_specifier(r[col["id"][0]])
        for cell in (r[i] for i in col["sc"] if r[i].strip()):
            named, some = _expression(cell, resolve, spec)
            c.parents |= named
            c.some |= some
        ecs = [_expression(r[i], resolve, spec) for i in col["ec"] if r[i].strip()]
        if ecs:  # ROBOT joins several EC columns into one intersection
            named = frozenset().union(*(e[0] for e in ecs))
            some = frozenset().union(*(e[1] for e in ecs))
            c.parents |= named
            c.some |= some
            c.definitions.append((named, some))
        c.parents |= {domains[p] for p, _ in c.some if p in domains}
    synonyms: dict[str, list[str]] = {}
    for r in data:
        synonyms.setdefault(r[col["id"][0]], []).extend(
            r[i].strip() for i in col["alt"] if r[i].strip())
    parents = _classify(classes)
    return build(labels, parents, synonyms)


def _domains(template: list[str], data: list[list[str]], kinds: Mapping[str, str],
             resolve) -> dict[str, str]:
    """Object property label -> the class its DOMAIN column names: whatever has a
    restriction on the property falls under that class (so every `'definedbyprobe' some X`
    technique is a "photon and neutron technique", as in the reasoned OWL)."""
    if "DOMAIN" not in template or "ID" not in template or "A rdfs:label" not in template:
        return {}
    ident, label, domain = (template.index(k) for k in ("ID", "A rdfs:label", "DOMAIN"))
    out: dict[str, str] = {}
    for r in data:
        if kinds.get(r[ident]) == "owl:ObjectProperty" and (iri := resolve(r[domain])):
            out[r[label].strip()] = iri
    return out


def _resolver(labels: Mapping[str, str]):
    """A function from a template reference (label, 'label', CURIE, IRI) to an IRI or None.
    PaNET reuses some labels for a technique (PaNETnnnnn) and a specifier class
    (PaNETnnnnnnn, e.g. the process "diffraction"): `specifier=True` prefers the latter, as a
    restriction's filler or in a specifier's own row; otherwise the technique wins."""
    by_label: dict[str, dict[bool, str]] = {}
    for iri, label in labels.items():
        by_label.setdefault(_key(label), {})[_is_specifier(iri)] = iri

    def resolve(ref: str, specifier: bool = False) -> str | None:
        ref = ref.strip().strip("'")
        if ref.startswith("http"):
            return ref if ref in labels else None
        if ref.startswith("PaNET:"):
            iri = PANET + ref.split(":", 1)[1]
            return iri if iri in labels else None
        found = by_label.get(_key(ref), {})
        return found.get(specifier) or found.get(not specifier)
    return resolve


def _is_specifier(iri: str) -> bool:
    """PaNET's specifier classes and properties have 7-digit ids, techniques 5."""
    m = _PANET_ID.match(iri)
    return bool(m) and len(m.group(1)) > 10


def _expression(cell: str, resolve, specifier: bool = False,
                ) -> tuple[frozenset[str], frozenset[tuple[str, str]]]:
    """The named classes and (property, filler) restrictions a template cell's class
    expression is a conjunction of. A cell that is a bare label is one named class; a
    disjunction or anything unknown contributes nothing (it names no superclass)."""
    text = cell.strip()
    if "(" not in text and "'" not in text:
        iri = resolve(text, specifier)
        return (frozenset([iri]) if iri else frozenset()), frozenset()
    tokens = _TOKEN.findall(text)
    pos = 0

    def conjunction() -> tuple[set[str], set[tuple[str, str]], bool]:
        nonlocal pos
        named: set[str] = set()
        some: set[tuple[str, str]] = set()
        disjunctive = False
        while pos < len(tokens) and tokens[pos] != ")":
            tok = tokens[pos]
            pos += 1
            if tok == "(":
                n, s, d = conjunction()
                pos += 1  # the closing parenthesis
                if not d:
                    named |= n
                    some |= s
            elif tok == "and":
                continue
            elif tok == "or":
                disjunctive = True
            elif pos < len(tokens) and tokens[pos] == "some":
                filler = tokens[pos + 1] if pos + 1 < len(tokens) else ""
                pos += 2
                iri = resolve(filler, True)
                if iri:
                    some.add((tok.strip("'"), iri))
            elif (iri := resolve(tok, specifier)) is not None:
                named.add(iri)
        return named, some, disjunctive

    named, some, disjunctive = conjunction()
    if disjunctive:
        return frozenset(), frozenset()
    return frozenset(named), frozenset(some)


def _classify(classes: Mapping[str, _Class]) -> dict[str, set[str]]:
    """Told superclasses plus the subsumptions a reasoner infers from definitions: C falls
    under a defined class D (D = N1 and ... and p some X ...) when C is under every Ni and
    has (or inherits) a restriction p some Y with Y under X. Repeated until nothing changes."""
    parents = {c: {p for p in k.parents if p in classes and p != c} for c, k in classes.items()}
    defined = [(d, (named, some)) for d, k in classes.items()
               for named, some in k.definitions if named or some]
    changed = True
    while changed:
        changed = False
        anc = _closure(parents)
        inherited = {c: {r for a in anc[c] for r in classes[a].some} for c in classes}
        for d, (named, some) in defined:
            for c in classes:
                if c == d or d in anc[c] or not named <= anc[c]:
                    continue
                if all(any(p == q and x in anc.get(y, ()) for q, y in inherited[c])
                       for p, x in some):
                    parents[c].add(d)
                    changed = True
    return parents


def _closure(parents: Mapping[str, set[str]]) -> dict[str, set[str]]:
    """Every node's reflexive, transitive superclasses (cycles allowed)."""
    out: dict[str, set[str]] = {}
    for n in parents:
        seen, todo = {n}, [n]
        while todo:
            for p in parents.get(todo.pop(), ()):
                if p not in seen:
                    seen.add(p)
                    todo.append(p)
        out[n] = seen
    return out
