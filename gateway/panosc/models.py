"""The PaNOSC Search API models as the filter language sees them: fields, the fields the
`text` operator searches, date and number fields, and relations (to one or to many).

From ../shared/reference/panosc-search-api.md section 1 (the data model) and section 3
(`text` field sets). A filter naming anything not listed here is refused with a 400.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Relation:
    model: str
    many: bool = True


@dataclass(frozen=True)
class Model:
    name: str
    fields: frozenset[str]
    text: tuple[str, ...] = ()
    dates: frozenset[str] = frozenset()
    numbers: frozenset[str] = frozenset()
    relations: dict[str, Relation] = field(default_factory=dict)

    def relation(self, name: str) -> Relation | None:
        return self.relations.get(name)


MODELS: dict[str, Model] = {m.name: m for m in (
    Model("Dataset", frozenset({"pid", "title", "isPublic", "creationDate", "size", "score"}),
          text=("title",), dates=frozenset({"creationDate"}),
          numbers=frozenset({"size", "score"}),
          relations={"techniques": Relation("Technique"),
                     "instrument": Relation("Instrument", many=False),
                     "parameters": Relation("Parameter"), "samples": Relation("Sample"),
                     "files": Relation("File")}),
    Model("Document", frozenset({"pid", "isPublic", "type", "title", "summary", "doi",
                                 "startDate", "endDate", "releaseDate", "license", "keywords",
                                 "score"}),
          text=("title", "summary"),
          dates=frozenset({"startDate", "endDate", "releaseDate"}),
          numbers=frozenset({"score"}),
          relations={"datasets": Relation("Dataset"), "members": Relation("Member"),
                     "parameters": Relation("Parameter")}),
    Model("Instrument", frozenset({"pid", "name", "facility", "score"}),
          text=("name", "facility"), numbers=frozenset({"score"}),
          relations={"datasets": Relation("Dataset")}),
    Model("Technique", frozenset({"pid", "name", "panetId"}), text=("name",)),
    Model("Parameter", frozenset({"id", "name", "value", "unit"}), text=("name",)),
    Model("Sample", frozenset({"pid", "name", "description"}), text=("name", "description")),
    Model("File", frozenset({"id", "name", "path", "size"}), text=("name",),
          numbers=frozenset({"size"})),
    Model("Member", frozenset({"id", "role"}), text=("role",),
          relations={"person": Relation("Person", many=False),
                     "affiliation": Relation("Affiliation", many=False)}),
    Model("Person", frozenset({"id", "fullName", "orcid", "researcherId", "firstName",
                               "lastName"}), text=("fullName",)),
    Model("Affiliation", frozenset({"id", "name", "address", "city", "country"}),
          text=("name",)),
)}

# URL collection name -> model name (the API serves these three; the others only nest)
COLLECTIONS = {"Datasets": "Dataset", "Documents": "Document", "Instruments": "Instrument"}
