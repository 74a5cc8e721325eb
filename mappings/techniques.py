"""A small built-in PaNET vocabulary: technique hints -> PaNET terms.

Hints come from NeXus (`definition` such as ``NXmx``, `identifier_technique_N`), from ESRF Bliss /
ESRFET technique names (``XAS``, ``SAXS``, ``https://w3id.org/PaN/ESRFET#XAS``), from PaNET labels
("x-ray absorption spectroscopy") and from PaNET IRIs or CURIEs (``PaNET:PaNET01103``). Matching is
case-insensitive. Labels follow PaNET v1.3.0 (`PaNET.csv`); the IRIs are
``http://purl.org/pan-science/PaNET/PaNETnnnnn``.

Generic hints are refined by the probe when one is known: small angle scattering becomes SAXS
with x-rays and SANS with neutrons, NXtomo stays x-ray tomography unless the probe is neutrons
(then plain tomography). Explicit PaNET IRIs are never refined. Pure: no I/O; the tables are
built on first use.
"""
from __future__ import annotations

import re
from functools import cache

from .record import Technique

PANET = "http://purl.org/pan-science/PaNET/"

# PaNET id (digits after "PaNET") -> rdfs:label, for every term this module can return.
_LABELS: dict[str, str] = {
    "00100": "photon probe", "00101": "neutron probe", "00102": "muon probe",
    "01000": "time of flight technique", "01001": "neutron time of flight technique",
    "01012": "x-ray probe", "01022": "diffraction", "01029": "single crystal diffraction",
    "01030": "powder diffraction", "01034": "inelastic scattering",
    "01035": "quasielastic scattering", "01045": "x-ray emission technique",
    "01050": "nuclear resonance", "01051": "muon spin resonance", "01052": "spin echo technique",
    "01089": "angle resolved photoemission spectroscopy", "01093": "photoemission spectroscopy",
    "01100": "neutron powder diffraction", "01101": "x-ray powder diffraction",
    "01102": "x-ray single crystal diffraction", "01103": "hard x-ray photoelectron spectroscopy",
    "01106": "imaging", "01109": "infrared spectroscopy", "01112": "fluorescence imaging",
    "01115": "optical spectroscopy", "01116": "phase contrast imaging", "01121": "reflectometry",
    "01122": "resonant diffraction", "01124": "small angle scattering", "01129": "tomography",
    "01135": "absorption spectroscopy", "01137": "x-ray magnetic circular dichroism",
    "01140": "x-ray excited optical luminescence", "01145": "electron microscopy",
    "01146": "photoemission electron microscopy", "01149": "x-ray reflectivity",
    "01152": "propagation phase contrast tomography", "01156": "x-ray spectroscopy",
    "01160": "energy dispersive x-ray diffraction", "01161": "grazing incidence x-ray diffraction",
    "01162": "grazing incidence small angle x-ray scattering",
    "01164": "macromolecular crystallography", "01165": "multi wavelength anomalous diffraction",
    "01168": "serial femtosecond crystallography", "01169": "serial synchrotron crystallography",
    "01170": "single wavelength anomalous diffraction", "01174": "coherent diffraction imaging",
    "01177": "x-ray fluorescence", "01180": "x-ray microscopy",
    "01181": "pair distribution function",
    "01182": "inelastic x-ray scattering", "01183": "resonant inelastic x-ray scattering",
    "01188": "small angle x-ray scattering", "01189": "small angle neutron scattering",
    "01191": "wide angle x-ray scattering", "01193": "energy dispersive x-ray spectroscopy",
    "01195": "raman spectroscopy", "01196": "x-ray absorption spectroscopy",
    "01197": "x-ray absorption fine structure", "01198": "extended x-ray absorption fine structure",
    "01199": "x-ray absorption near edge structure", "01200": "x-ray emission spectroscopy",
    "01202": "photoelectron spectroscopy", "01204": "x-ray photoelectron spectroscopy",
    "01205": "x-ray photon correlation spectroscopy", "01207": "x-ray tomography",
    "01212": "ptychography", "01213": "ptychographic nanotomography", "01216": "x-ray diffraction",
    "01217": "neutron diffraction", "01219": "scanning transmission x-ray microscopy",
    "01236": "neutron single crystal diffraction", "01239": "neutron reflectometry",
    "01240": "ultra small angle neutron scattering", "01241": "ultra small angle x-ray scattering",
    "01244": "time-of-flight spectrometry", "01245": "inelastic neutron spectroscopy",
    "01254": "microfocus x-ray fluorescence", "01255": "ellipsometry",
    "01259": "x-ray magnetic linear dichroism", "01260": "resonant elastic x-ray scattering",
    "01266": "x-ray holography", "01270": "nuclear resonant scattering",
    "01274": "anomalous small angle x-ray scattering",
    "01276": "grazing incidence small angle neutron scattering",
    "01277": "time of flight small angle neutron scattering",
    "01278": "very small angle neutron scattering", "01285": "x-ray imaging",
    "01288": "scanning x-ray fluorescence", "01290": "x-ray diffraction imaging",
    "01294": "x-ray photoemission electron microscopy", "01295": "x-ray scanning microscopy",
    "01302": "x-ray natural circular dichroism",
    "01316": "grazing incidence wide angle x-ray scattering",
    "01320": "fourier transform infrared spectroscopy",
    "01321": "energy dispersive extended x-ray absorption fine structure",
    "01323": "radiotherapy", "01327": "x-ray birefringence imaging",
    "01332": "x-ray propagation phase contrast tomography",
}

# PaNET id -> whitespace-separated short names: NeXus application definitions, ESRF Bliss /
# ESRFET names and PaNET alternative labels. Every label above is an alias of its own id too.
_ALIASES: dict[str, str] = {
    "01164": "NXmx MX protein_crystallography",
    "01124": "NXsas NXcanSAS NXiqproc SAS",
    "01188": "SAXS BioSAXS BIOSAXS",
    "01189": "SANS",
    "01207": "NXtomo NXtomoproc TOMO CT CT_scan XRCT KESCT",
    "01152": "NXtomophase",
    "01177": "NXfluo NXxrf XRF FLUO ED-XRF",
    "01196": "NXxas NXxasproc XAS HERFD-XAS HERFD PFY-XAS ED-XAS FF-XAS FS-XAS LDDC-XAS LDSC-XAS",
    "01199": "XANES NEXAFS ED-XANES FF-XANES FS-XANES",
    "01198": "EXAFS FF-EXAFS FS-EXAFS",
    "01197": "XAFS",
    "01321": "ED-EXAFS EDE",
    "01219": "NXstxm STXM",
    "01102": "NXxrot NXxbase NXxeuler NXxkappa NXxnb NXxlaue SXRD SCXRD",
    "01216": "XRD 3DXRD HP-XRD HT-XRD MICRO-XRD NANO-XRD",
    "01101": "XRPD XPD HR-XRPD",
    "01160": "ED-XRD ED-XRPD EDXRD",
    "01161": "GIXRD GIXD",
    "01162": "GISAXS", "01316": "GIWAXS", "01191": "WAXS", "01241": "USAXS", "01274": "ASAXS",
    "01276": "GISANS", "01278": "VSANS", "01240": "USANS", "01277": "NXsastof",
    "01030": "NXmonopd", "01100": "NXtofnpd NPD",
    "01236": "NXlauetof", "01001": "NXtofraw NXtofsingle",
    "01245": "NXdirecttof NXindirecttof NXspe INS",
    "01034": "NXtas NXsqom", "01121": "NXrefscan", "01239": "NXreftof",
    "01205": "NXxpcs XPCS", "01089": "NXarpes ARPES", "01093": "NXmpes MPES",
    "01255": "NXellipsometry", "01195": "NXraman RAMAN", "01145": "NXem EM CRYO-EM",
    "01204": "NXxps XPS", "01115": "NXoptical_spectroscopy",
    "01212": "PTYCHO NFP", "01213": "PXCT", "01266": "HOLO", "01174": "CDI BCDI CXDI",
    "01288": "S-XRF NANO-XRF MACRO-XRF", "01254": "MICRO-XRF", "01112": "FF-XRF",
    "01290": "S-XRD SXDM DFXM", "01149": "XRR", "01181": "PDF",
    "01182": "IXS", "01183": "RIXS", "01200": "XES RXES", "01270": "NRS NRIXS NFS",
    "01050": "MBS CMS", "01260": "REXS", "01137": "XMCD", "01259": "XMLD NR-XMLD",
    "01302": "XNCD", "01103": "HAXPES", "01202": "PES", "01140": "XEOL", "01327": "XBI",
    "01146": "PEEM", "01294": "XPEEM", "01320": "FTIR", "01109": "IR",
    "01193": "EDS EDX", "01122": "DAFS", "01116": "PCI PB-XPCI", "01332": "PB-XPCT XPCT HiP-CT",
    "01285": "KES", "01323": "MRT", "01045": "PIXE", "01165": "MAD", "01170": "SAD",
    "01169": "SSX", "01168": "SFX", "01051": "MuSR", "01052": "NSE", "01000": "TOF",
    "01035": "QENS",
}

# Generic term -> {probe kind: refined term}, applied to names and definitions, never to IRIs.
_BY_PROBE: dict[str, dict[str, str]] = {
    "01124": {"xray": "01188", "neutron": "01189"},
    "01207": {"neutron": "01129"},
    "01129": {"xray": "01207"},
    "01030": {"xray": "01101", "neutron": "01100"},
    "01029": {"xray": "01102", "neutron": "01236"},
    "01121": {"xray": "01149", "neutron": "01239"},
    "01022": {"xray": "01216", "neutron": "01217"},
    "01034": {"xray": "01182", "neutron": "01245"},
}

_PROBE_TERMS = {"xray": "00100", "photon": "00100", "neutron": "00101", "muon": "00102"}

# Substrings of a NXsource `probe` or `type` value, checked in this order.
_PROBE_WORDS = (
    ("neutron", "neutron"), ("spallation", "neutron"), ("reactor", "neutron"), ("muon", "muon"),
    ("x-ray", "xray"), ("xray", "xray"), ("x ray", "xray"), ("synchrotron", "xray"),
    ("free-electron laser", "xray"), ("free electron laser", "xray"),
    ("photon", "photon"), ("ultraviolet", "photon"), ("infrared", "photon"),
    ("visible", "photon"), ("laser", "photon"), ("light", "photon"),
)

_PANET_ID = re.compile(r"(?:^|[/#:])panet(\d{5,7})$", re.IGNORECASE)
_SPACES = re.compile(r"[\s_]+")


def _key(text: str) -> str:
    return _SPACES.sub(" ", text.strip().lower())


@cache
def _index() -> dict[str, str]:
    index = {_key(label): pid for pid, label in _LABELS.items()}
    for pid, names in _ALIASES.items():
        index.update({_key(name): pid for name in names.split()})
    return index


def by_id(panet_id: str) -> Technique:
    """The term for a PaNET id ("PaNET01188", "01188"); ValueError if there are no digits. An id
    outside the built-in table keeps its IRI and uses the id itself as label."""
    match = re.search(r"(\d+)$", panet_id.strip())
    if match is None:
        raise ValueError(f"not a PaNET id: {panet_id!r}")
    digits = match.group(1)
    return Technique(iri=f"{PANET}PaNET{digits}", label=_LABELS.get(digits, f"PaNET{digits}"))


def probe_kind(text: str | None) -> str | None:
    """"xray", "photon" (other light), "neutron" or "muon" for a NXsource `probe` or `type`
    value such as "x-ray", "Spallation Neutron Source"; None when unknown (electrons, ions...)."""
    if not text:
        return None
    low = text.lower()
    if re.search(r"\buv\b", low):
        return "photon"
    return next((kind for word, kind in _PROBE_WORDS if word in low), None)


def probe_technique(probe_or_source_type: str | None) -> Technique | None:
    """PaNET probe term: photon probe (PaNET00100) for x-rays and light, neutron probe
    (PaNET00101), muon probe (PaNET00102); None for anything else."""
    kind = probe_kind(probe_or_source_type)
    return by_id(_PROBE_TERMS[kind]) if kind else None


def _name(hint: str) -> str:
    """The technique name inside an ESRFET IRI (fragment or last path segment), else the hint."""
    if "://" in hint or "esrfet" in hint.lower():
        return re.split(r"[#/:]", hint.rstrip("/#"))[-1]
    return hint


def resolve(hint: str | None, probe: str | None = None) -> Technique | None:
    """The PaNET term for a hint (PaNET IRI/CURIE/id, ESRFET IRI, NeXus definition, technique
    name or PaNET label), refined by `probe` (a probe or source type, see `probe_kind`) when the
    hint is generic. None when the hint is empty or unknown."""
    text = (hint or "").strip()
    if not text:
        return None
    explicit = _PANET_ID.search(text)
    if explicit:
        return by_id(explicit.group(1))
    pid = _index().get(_key(_name(text)))
    if pid is None:
        return None
    kind = probe_kind(probe)
    return by_id(_BY_PROBE.get(pid, {}).get(kind or "", pid))


__all__ = ["PANET", "by_id", "probe_kind", "probe_technique", "resolve"]
