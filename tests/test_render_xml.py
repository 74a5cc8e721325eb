"""The XML renderers (DataCite kernel 4.5, oai_datacite, oai_dc, oai_openaire), judged by
the official XSDs of ../shared/data/xsd through its XML catalog, plus the project rules an
XSD cannot see (crosswalk sections 3-5): ORCID/ROR schemes, access rights that agree with
mappings.rights in every format, the embargo dates, no e-mail addresses.

Golden files: tests/golden/<fixture>.<format>.xml, compared in canonical form (C14N 2.0).
Regenerate them with `FAIRGATE_REGEN_GOLDEN=1 python -m pytest tests/test_render_xml.py`.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from .xsd import schema  # first: it points libxml2 at the XSD bundle's catalog

from lxml import etree

from mappings import datacite, dublincore, openaire, rights
from mappings.record import Funding, Identifier, Instrument, Parameter, Person, Related, Sample
from mappings.render import Context
from mappings.validation import EMAIL_RE, ORCID_RE, ROR_RE

from .golden import GOLDEN_FIXTURES, golden_text
from .render_fixtures import CONTEXT, FIXTURES, NOW


KERNEL = "http://datacite.org/schema/kernel-4"
NS = {"k": KERNEL, "dc": "http://purl.org/dc/elements/1.1/",
      "oaire": "http://namespace.openaire.eu/schema/oaire/",
      "oai_datacite": "http://schema.datacite.org/oai/oai-1.1/",
      "oai_dc": "http://www.openarchives.org/OAI/2.0/oai_dc/"}

# format name -> (renderer, driver schema that validates it inside an OAI-PMH GetRecord)
XML_FORMATS = {
    "datacite-xml": (datacite.render_xml, "drv_datacite45.xsd"),
    "oai_datacite": (datacite.render_oai_datacite, "drv_datacite45.xsd"),
    "oai_dc": (dublincore.render, "drv_dc.xsd"),
    "oai_openaire": (openaire.render, "drv_openaire.xsd"),
}

ENVELOPE = (
    '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation='
    '"http://www.openarchives.org/OAI/2.0/ http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd">'
    "<responseDate>2026-11-23T12:00:00Z</responseDate>"
    '<request verb="GetRecord" identifier="oai:fairgate:x" metadataPrefix="p">'
    "https://fairgate.example.org/oai</request><GetRecord><record><header>"
    "<identifier>oai:fairgate:x</identifier><datestamp>2026-11-23T12:00:00Z</datestamp>"
    "</header><metadata>{}</metadata></record></GetRecord></OAI-PMH>")


def assert_valid(xsd: etree.XMLSchema, doc: etree._Element, what: object) -> None:
    if not xsd.validate(doc):
        pytest.fail(f"{what}: {xsd.error_log}")


def in_envelope(text: str) -> etree._Element:
    return etree.fromstring(ENVELOPE.format(text).encode())


def c14n(element: etree._Element | str) -> str:
    """Canonical XML (C14N 2.0) with whitespace around text stripped."""
    text = element if isinstance(element, str) else etree.tostring(element, encoding="unicode")
    return etree.canonicalize(text, strip_text=True)


def rendered(fmt: str, key: str, context: Context = CONTEXT) -> etree._Element:
    text = XML_FORMATS[fmt][0](FIXTURES[key], context)
    return etree.fromstring(text.encode())


@pytest.fixture(scope="module")
def outputs() -> dict[tuple[str, str], str]:
    return {(fmt, key): render(record, CONTEXT) for fmt, (render, _) in XML_FORMATS.items()
            for key, record in FIXTURES.items()}


# --- independent judges: the XSDs -------------------------------------------------------------

@pytest.mark.parametrize("fmt", XML_FORMATS)
def test_every_fixture_is_valid_in_an_oai_pmh_getrecord(fmt, outputs):
    """Strict wildcards: the metadata must match a loaded global element and its schema."""
    xsd = schema(XML_FORMATS[fmt][1])
    for key in FIXTURES:
        text = outputs[(fmt, key)]
        assert not text.startswith("<?xml"), (fmt, key)
        assert_valid(xsd, in_envelope(text), (fmt, key))


def test_datacite_xml_is_valid_kernel_45_on_its_own(outputs):
    xsd = schema("datacite-4.5/metadata.xsd")
    for key in FIXTURES:
        assert_valid(xsd, etree.fromstring(outputs[("datacite-xml", key)].encode()), key)


def test_oai_dc_is_valid_against_oai_dc_xsd_on_its_own(outputs):
    xsd = schema("oai_dc.xsd")
    for key in FIXTURES:
        assert_valid(xsd, etree.fromstring(outputs[("oai_dc", key)].encode()), key)


@pytest.mark.parametrize("fmt,remove", [("datacite-xml", "k:identifier"),
                                        ("oai_datacite", "oai_datacite:payload"),
                                        ("oai_dc", None), ("oai_openaire", None)])
def test_the_judges_are_not_vacuous(fmt, remove):
    """Negative control: a rendering with a mandatory element removed (where the schema has
    one) or with an element its namespace does not define is rejected, and so is an element
    the envelope's strict wildcard cannot match."""
    doc = rendered(fmt, "maximal")
    if remove:
        doc.remove(doc.find(remove, NS))
    else:
        etree.SubElement(doc, etree.QName(doc.find("*"), "nonsense"))
    assert not schema(XML_FORMATS[fmt][1]).validate(in_envelope(etree.tostring(doc).decode()))
    unknown = '<x:foo xmlns:x="urn:nowhere">1</x:foo>'
    assert not schema("drv_dc.xsd").validate(in_envelope(unknown))


# --- project rules the XSD cannot see ---------------------------------------------------------

def _kernels(fmt: str, doc: etree._Element) -> list[etree._Element]:
    """The DataCite-namespace parts of a rendering (kernel resource or oaire:resource)."""
    if fmt == "oai_dc":
        return []
    return [doc.find(".//k:resource", NS) if fmt == "oai_datacite" else doc]


def test_name_identifiers_are_orcid_or_ror_with_their_scheme_uri(outputs):
    for (fmt, key), text in outputs.items():
        for part in _kernels(fmt, etree.fromstring(text.encode())):
            for ni in part.iterfind(".//k:nameIdentifier", NS):
                scheme = ni.get("nameIdentifierScheme")
                assert scheme in ("ORCID", "ROR"), (fmt, key, scheme)
                if scheme == "ORCID":
                    assert ni.get("schemeURI") == "https://orcid.org", (fmt, key)
                    value = ni.text if ni.text.startswith("https://") \
                        else f"https://orcid.org/{ni.text}"
                    assert ORCID_RE.match(value), (fmt, key, ni.text)
                    assert ni.text.startswith("https://") == (fmt != "oai_openaire")
                else:
                    assert ROR_RE.match(ni.text) and ni.get("schemeURI") == "https://ror.org"


def test_affiliations_and_publisher_carry_ror(outputs):
    for (fmt, key), text in outputs.items():
        for part in _kernels(fmt, etree.fromstring(text.encode())):
            for aff in part.iterfind(".//k:affiliation", NS):
                if aff.get("affiliationIdentifier") is not None:
                    assert ROR_RE.match(aff.get("affiliationIdentifier")), (fmt, key)
                    assert aff.get("affiliationIdentifierScheme") == "ROR"
                    assert aff.get("schemeURI") == "https://ror.org"
            pub = part.find("k:publisher", NS)
            if pub is not None and pub.get("publisherIdentifier"):
                assert ROR_RE.match(pub.get("publisherIdentifier"))
                assert (pub.get("publisherIdentifierScheme"), pub.get("schemeURI")) == (
                    "ROR", "https://ror.org/")
    esrf = rendered("datacite-xml", "maximal").find(".//k:affiliation", NS)
    assert esrf.get("affiliationIdentifier") == "https://ror.org/02550n020"


def _access_values(fmt: str, doc: etree._Element) -> set[str]:
    """Every COAR / info:eu-repo access value a rendering states."""
    if fmt == "oai_dc":
        values = {e.text for e in doc.iterfind("dc:rights", NS)}
    else:
        values = set()
        for r in doc.iterfind(".//k:rights", NS):
            values |= {r.get("rightsURI"), r.text}
    return {v for v in values if v and ("access_right" in v or "info:eu-repo/semantics" in v)}


def test_access_rights_agree_with_mappings_rights_in_every_format(outputs):
    seen = set()
    for (fmt, key), text in outputs.items():
        acc = rights.access_rights(FIXTURES[key], NOW)
        expected = {acc.coar, acc.eurepo} if fmt != "oai_openaire" else {acc.coar}
        assert _access_values(fmt, etree.fromstring(text.encode())) == expected, (fmt, key)
        seen.add(acc.is_open)
    assert seen == {True, False}  # the fixtures exercise both states


def _dates(fmt: str, doc: etree._Element) -> dict[str, etree._Element]:
    part = _kernels(fmt, doc)[0]
    return {d.get("dateType"): d for d in part.iterfind(".//k:date", NS)}


def test_available_is_the_release_date_and_accepted_the_embargo_start(outputs):
    for (fmt, key), text in outputs.items():
        if fmt == "oai_dc":
            continue
        record, dates = FIXTURES[key], _dates(fmt, etree.fromstring(text.encode()))
        release, start = rights.embargo_end(record), rights.embargo_start(record)
        if release is None:
            assert "Available" not in dates and "Accepted" not in dates, (fmt, key)
            continue
        assert dates["Available"].text == release.strftime("%Y-%m-%d"), (fmt, key)
        assert dates["Available"].get("dateInformation") == "End of embargo"
        if start is not None and start < release:
            assert dates["Accepted"].text == start.strftime("%Y-%m-%d"), (fmt, key)


def test_publication_year_and_issued_follow_the_policy(outputs):
    for key, record in FIXTURES.items():
        year = str(rights.publication_year(record, NOW))
        doc = etree.fromstring(outputs[("datacite-xml", key)].encode())
        assert doc.findtext("k:publicationYear", namespaces=NS) == year, key
        for fmt in ("datacite-xml", "oai_openaire"):
            issued = _dates(fmt, etree.fromstring(outputs[(fmt, key)].encode()))["Issued"]
            assert issued.text[:4] == year, (fmt, key)
        dc = etree.fromstring(outputs[("oai_dc", key)].encode())
        assert dc.findtext("dc:date", namespaces=NS)[:4] == year


def test_oai_dc_embargo_end_only_while_embargoed(outputs):
    for key, record in FIXTURES.items():
        doc = etree.fromstring(outputs[("oai_dc", key)].encode())
        ends = [d.text for d in doc.iterfind("dc:date", NS) if "embargoEnd" in d.text]
        if rights.access_rights(record, NOW).is_open:
            assert ends == [], key
        else:
            day = record.dates.release_date.strftime("%Y-%m-%d")
            assert ends == [f"info:eu-repo/date/embargoEnd/{day}"], key


def test_openaire_mandatory_properties_are_present(outputs):
    """The OpenAIRE XSD is a repeatable choice: it cannot tell a missing mandatory property."""
    once = ("k:titles", "dc:language", "oaire:resourceType", "k:identifier", "k:rights",
            "k:dates", "oaire:licenseCondition")
    for key, record in FIXTURES.items():
        doc = etree.fromstring(outputs[("oai_openaire", key)].encode())
        for path in once:
            assert len(doc.findall(path, NS)) == 1, (key, path)
        assert "Issued" in _dates("oai_openaire", doc), key
        if record.creators:
            assert doc.find("k:creators", NS) is not None, key
        if record.funding:
            assert len(doc.findall(".//oaire:fundingReference", NS)) == len(record.funding)
        if record.description:
            assert doc.findtext("dc:description", namespaces=NS), key


def test_no_email_address_anywhere(outputs):
    for (fmt, key), text in outputs.items():
        assert not EMAIL_RE.search(text), (fmt, key)
    assert CONTEXT.contact_email  # the context has one; none of these formats shows it


def test_the_doi_is_bare_where_an_identifier_is_wanted_and_a_url_in_dc():
    record = FIXTURES["maximal"]
    for fmt, path in (("datacite-xml", "k:identifier"), ("oai_openaire", "k:identifier"),
                      ("oai_datacite", ".//k:identifier")):
        ident = rendered(fmt, "maximal").find(path, NS)
        assert (ident.get("identifierType"), ident.text) == ("DOI", record.pid), fmt
    dc_ids = [e.text for e in rendered("oai_dc", "maximal").iterfind("dc:identifier", NS)]
    assert dc_ids == [f"https://doi.org/{record.pid}", CONTEXT.landing_url(record)]
    resolved = replace(record, pid=f"https://doi.org/{record.pid}")
    assert datacite.primary_identifier(resolved, CONTEXT) == ("DOI", record.pid)


def test_without_a_doi_the_identifier_is_the_landing_page():
    record = FIXTURES["minimal-dataset"]
    landing = CONTEXT.landing_url(record)
    ident = rendered("datacite-xml", "minimal-dataset").find("k:identifier", NS)
    assert (ident.get("identifierType"), ident.text) == ("URL", landing)
    ident = rendered("oai_openaire", "minimal-dataset").find("k:identifier", NS)
    assert (ident.get("identifierType"), ident.text) == ("URL", landing)
    handle = replace(record, pid="21.T11148/0123456789abcdef")
    assert datacite.primary_identifier(handle, CONTEXT) == ("Handle", handle.pid)
    oaire = etree.fromstring(openaire.render(handle, CONTEXT).encode())
    assert oaire.find("k:identifier", NS).get("identifierType") == "HANDLE"


def test_unknown_mandatory_values_use_datacite_unav():
    doc = rendered("datacite-xml", "no-creators")
    assert [c.text for c in doc.iterfind(".//k:creatorName", NS)] == [":unav"]
    assert doc.findtext("k:publisher", namespaces=NS) == "ESRF"
    assert rendered("datacite-xml", "no-facility").findtext("k:publisher", namespaces=NS) \
        == ":unav"
    assert rendered("oai_openaire", "no-creators").find("k:creators", NS) is None


def test_documents_are_collections_and_datasets_datasets():
    for key, general, dc_type in (("document-funded", "Collection", "Collection"),
                                  ("maximal", "Dataset", "Dataset")):
        kind = rendered("datacite-xml", key).find("k:resourceType", NS)
        assert kind.get("resourceTypeGeneral") == general
        assert rendered("oai_dc", key).findtext("dc:type", namespaces=NS) == dc_type
        oaire = rendered("oai_openaire", key).find("oaire:resourceType", NS)
        assert (oaire.get("resourceTypeGeneral"), oaire.get("uri")) == (
            "dataset", "http://purl.org/coar/resource_type/c_ddb1")


def test_creators_contributors_and_hosting_institution():
    doc = rendered("datacite-xml", "maximal")
    first = doc.find("k:creators/k:creator", NS)
    assert [c.text for c in first] == [
        "Lovelace, Ada", "Ada", "Lovelace", "https://orcid.org/0000-0002-1825-0097",
        "European Synchrotron Radiation Facility"]
    assert first.find("k:creatorName", NS).get("nameType") == "Personal"
    kinds = {c.get("contributorType"): c.findtext("k:contributorName", namespaces=NS)
             for c in doc.iterfind("k:contributors/k:contributor", NS)}
    assert kinds == {"ContactPerson": "Ødegård, Björn", "HostingInstitution": "ESRF"}
    one = rendered("datacite-xml", "single-name-creator").find("k:creators/k:creator", NS)
    assert [c.text for c in one] == ["Kiefer"]


def test_subjects_rights_funding_and_technical_info():
    doc = rendered("datacite-xml", "maximal")
    panet = [s for s in doc.iterfind(".//k:subject", NS) if s.get("subjectScheme") == "PaNET"]
    assert [s.get("valueURI") for s in panet] == [t.iri for t in FIXTURES["maximal"].techniques]
    assert {s.get("schemeURI") for s in panet} == {"http://purl.org/pan-science/PaNET/"}
    licence = doc.find(".//k:rights[@rightsIdentifierScheme='SPDX']", NS)
    assert (licence.get("rightsIdentifier"), licence.get("rightsURI"), licence.get("schemeURI")) \
        == ("CC-BY-4.0", "https://creativecommons.org/licenses/by/4.0/legalcode",
            "https://spdx.org/licenses/")
    instrument = doc.find(".//k:relatedIdentifier[@relationType='IsCollectedBy']", NS)
    assert (instrument.text, instrument.get("resourceTypeGeneral")) == (
        "10.15151/ESRF-INSTR-ID31", "Instrument")
    tech = doc.findtext(".//k:description[@descriptionType='TechnicalInfo']", namespaces=NS)
    assert "Parameter: temperature = 298.15 K" in tech and "Parameter: cell = coin" in tech
    funders = rendered("datacite-xml", "document-funded").iterfind(".//k:fundingReference", NS)
    assert [(f.findtext("k:funderName", namespaces=NS),
             f.find("k:funderIdentifier", NS) is not None) for f in funders] == [
        ("Agence Nationale de la Recherche", False), ("European Commission", True)]
    unknown = rendered("datacite-xml", "license-unknown-spdx")
    assert unknown.find(".//k:rights[@rightsIdentifier='MIT']", NS).get("rightsURI") \
        == "https://spdx.org/licenses/MIT"
    # an instrument without a PID is a subject, and OpenAIRE 4.0 has no IsCollectedBy
    assert "SANS-I" in [s.text for s in rendered("datacite-xml", "facility-no-ror")
                        .iterfind(".//k:subject", NS)]
    assert rendered("oai_openaire", "maximal").find(
        ".//k:relatedIdentifier[@relationType='IsCollectedBy']", NS) is None


@pytest.mark.parametrize("fmt", XML_FORMATS)
def test_embargo_switches_to_open_at_the_release_date(fmt):
    record = FIXTURES["embargoed"]
    release = record.dates.release_date
    later = replace(CONTEXT, now=release + timedelta(days=1))
    before, after = rendered(fmt, "embargoed"), rendered(fmt, "embargoed", later)
    closed = {"http://purl.org/coar/access_right/c_f1cf"}
    opened = {"http://purl.org/coar/access_right/c_abf2"}
    if fmt != "oai_openaire":  # OpenAIRE's datacite:rights takes COAR values only
        closed.add("info:eu-repo/semantics/embargoedAccess")
        opened.add("info:eu-repo/semantics/openAccess")
    assert _access_values(fmt, before) == closed
    assert _access_values(fmt, after) == opened
    if fmt != "oai_dc":
        assert _dates(fmt, before)["Available"].text == _dates(fmt, after)["Available"].text \
            == "2029-06-30"
    assert_valid(schema(XML_FORMATS[fmt][1]), in_envelope(etree.tostring(after).decode()), fmt)


@pytest.mark.parametrize("fmt", XML_FORMATS)
def test_non_ascii_and_xml_specials_round_trip(fmt, outputs):
    for key in ("non-ascii", "xml-specials"):
        text = outputs[(fmt, key)]
        doc = etree.fromstring(text.encode("utf-8"))
        title = doc.find(".//k:title", NS) if fmt != "oai_dc" else doc.find("dc:title", NS)
        assert title.text == FIXTURES[key].title, (fmt, key)
    assert "酸化セリウム" in outputs[(fmt, "non-ascii")]  # UTF-8 text, not char references
    assert "&lt;b&gt;bold&lt;/b&gt;" in outputs[(fmt, "xml-specials")]


@pytest.mark.parametrize("fmt", XML_FORMATS)
def test_characters_xml_cannot_hold_are_dropped(fmt):
    bad = "\x00\x0b\ufffe\x1f\ud800"
    base = FIXTURES["maximal"]
    record = replace(
        base, title="Beam\x00 dump\x0b \ufffe\x1f ok", description=f"d{bad}",
        keywords=("a\x08b",), creators=(Person("Nul\x00l", "Nu\x01", "ll"),),
        samples=(Sample(f"s{bad}", f"f{bad}", f"x{bad}"),),
        parameters=(Parameter(f"p{bad}", f"v{bad}", f"u{bad}"),),
        instrument=Instrument(f"i{bad}"), identifiers=(Identifier(f"t{bad}", f"v{bad}"),),
        related=(Related("IsCitedBy", f"https://example.org/{bad}", "URL"),),
        funding=(Funding(f"f{bad}", None, f"n{bad}", f"https://example.org/{bad}"),))
    doc = etree.fromstring(XML_FORMATS[fmt][0](record, CONTEXT).encode())
    title = doc.find(".//k:title", NS) if fmt != "oai_dc" else doc.find("dc:title", NS)
    assert title.text == "Beam dump  ok"
    assert_valid(schema(XML_FORMATS[fmt][1]), in_envelope(etree.tostring(doc).decode()), fmt)


def test_oai_datacite_wraps_the_same_kernel_resource():
    for key in FIXTURES:
        wrapper = rendered("oai_datacite", key)
        assert wrapper.findtext("oai_datacite:schemaVersion", namespaces=NS) == "4.5"
        assert wrapper.findtext("oai_datacite:datacentreSymbol", namespaces=NS) \
            == CONTEXT.datacentre_symbol
        assert c14n(wrapper.find(".//k:resource", NS)) == c14n(rendered("datacite-xml", key))


def test_schema_locations_name_their_namespaces():
    xsi = "{http://www.w3.org/2001/XMLSchema-instance}schemaLocation"
    assert rendered("datacite-xml", "maximal").get(xsi) == (
        f"{KERNEL} http://schema.datacite.org/meta/kernel-4.5/metadata.xsd")
    assert rendered("oai_dc", "maximal").get(xsi) == (
        "http://www.openarchives.org/OAI/2.0/oai_dc/ "
        "http://www.openarchives.org/OAI/2.0/oai_dc.xsd")
    for module in (datacite, dublincore, openaire):
        for fmt in module.FORMATS:
            if fmt.oai:
                root = etree.fromstring(fmt.render(FIXTURES["maximal"], CONTEXT).encode())
                assert root.get(xsi) == f"{fmt.oai.namespace} {fmt.oai.schema}", fmt.name
                assert etree.QName(root).namespace == fmt.oai.namespace, fmt.name


def test_registry_declarations():
    declared = {f.name: f for m in (datacite, dublincore, openaire) for f in m.FORMATS}
    assert {n: (f.media_type, f.extension, f.oai and f.oai.prefix)
            for n, f in declared.items()} == {
        "datacite-xml": ("application/vnd.datacite.datacite+xml", "xml", "datacite"),
        "datacite-json": ("application/vnd.datacite.datacite+json", "json", None),
        "oai_datacite": ("application/xml", "xml", "oai_datacite"),
        "oai_dc": ("application/xml", "xml", "oai_dc"),
        "oai_openaire": ("application/xml", "xml", "oai_openaire"),
    }
    for name, (render, _) in XML_FORMATS.items():
        assert declared[name].render is render


# --- golden files -----------------------------------------------------------------------------

@pytest.mark.parametrize("key", GOLDEN_FIXTURES)
@pytest.mark.parametrize("fmt", XML_FORMATS)
def test_golden(fmt, key):
    name = f"{key}.{fmt}.xml"
    doc = rendered(fmt, key)

    def indented() -> str:
        etree.indent(doc)
        return etree.tostring(doc, encoding="unicode") + "\n"
    assert c14n(doc) == c14n(golden_text(name, indented)), name
