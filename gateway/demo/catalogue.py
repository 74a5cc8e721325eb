"""The static data of the demo facility: beamlines, samples, people, technique tables.

Nothing here is random; `plan` draws from these tables with a seeded generator.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

ESRFET_BASE = "https://w3id.org/PaN/ESRFET#"
_PANET = "http://purl.org/pan-science/PaNET/PaNET"
# The PaNET term the generator means by each ESRFET technique it writes (ground truth for tests).
ESRFET_TO_PANET: dict[str, str] = {
    name: _PANET + num for name, num in (
        ("XRD", "01216"), ("XRPD", "01101"), ("SAXS", "01188"), ("WAXS", "01191"),
        ("USAXS", "01241"), ("XRF", "01177"), ("XAS", "01196"), ("XANES", "01199"),
        ("EXAFS", "01198"), ("MX", "01164"), ("SAD", "01170"), ("XRCT", "01207"),
        ("XPCT", "01332"))
}
APP_DEF = {"SAXS": "NXsas", "WAXS": "NXsas", "USAXS": "NXsas", "XAS": "NXxas", "XANES": "NXxas",
           "EXAFS": "NXxas", "XRF": "NXfluo", "XRCT": "NXtomo", "XPCT": "NXtomo", "MX": "NXmx",
           "SAD": "NXmx"}


@dataclass(frozen=True)
class Beamline:
    """One beamline: what its sessions may measure, with which motors, detectors and samples."""

    name: str
    combos: tuple[tuple[str, ...], ...]  # technique sets a session may use
    motors: tuple[tuple[str, str], ...]  # (name, units); linear motors first
    rotation: str | None
    energies: tuple[float, ...]  # keV; empty: no monochromator (pink beam)
    detectors: tuple[str, ...]
    counters: tuple[str, ...]
    samples: tuple[str, ...]
    prefixes: tuple[str, ...]
    kinds: tuple[tuple[str, int], ...]  # scan kind, weight

    @property
    def dirname(self) -> str:
        return self.name.lower()


_LIN = (("samx", "mm"), ("samy", "mm"), ("samz", "mm"))
BEAMLINES = (
    Beamline("ID11", (("XRD",), ("XRPD",), ("XRD", "XRPD")), _LIN + (("diffty", "mm"), ("diffrz", "deg")),
             "diffrz", (43.35, 65.35, 89.1), ("frelon3", "eiger"), ("mon", "pico3", "frelon3_roi1"),
             ("CeO2_calib", "LaB6", "hematite", "BaTiO3", "Al_alloy", "quartz", "calcite", "Ti6Al4V"),
             ("ma", "hc", "ch", "es"),
             (("ct", 2), ("dscan", 1), ("ascan", 1), ("loopscan", 2), ("fscan", 3), ("amesh", 1))),
    Beamline("ID13", (("SAXS", "WAXS"), ("WAXS",), ("XRD",)),
             (("nnx", "mm"), ("nny", "mm"), ("nnz", "mm"), ("nnp3", "deg")),
             None, (12.9, 13.0, 15.2), ("eiger",), ("mon", "ct22", "eiger_roi1"),
             ("AgBeh", "cellulose", "collagen", "latex", "MAPbI3", "bone"), ("sc", "ls", "ma"),
             (("ct", 2), ("dscan", 1), ("amesh", 4), ("loopscan", 2))),
    Beamline("ID16A", (("XRF",), ("XPCT",), ("XRF", "XPCT")), _LIN + (("srot", "deg"),),
             "srot", (17.05, 33.6), ("pco_edge", "frelon"), ("mon", "fluo_sum", "xmap_det0"),
             ("bone", "hematite", "soil", "fossil_tooth", "Al_alloy"), ("ls", "es", "ma"),
             (("ct", 1), ("dscan", 1), ("amesh", 3), ("fscan", 3))),
    Beamline("BM23", (("XAS",), ("XAS", "XANES"), ("XAS", "EXAFS")), _LIN + (("bragg", "deg"),),
             None, (7.112, 7.709, 8.333, 8.979, 9.659, 11.564), ("maxipix",), ("I0", "I1", "I2", "mu_trans"),
             ("Cu_foil", "Ni_foil", "Pt_Al2O3", "hematite", "magnetite", "ZnO"), ("ch", "es", "ev"),
             (("ct", 1), ("dscan", 1), ("escan", 5), ("loopscan", 1))),
    Beamline("ID02", (("SAXS",), ("SAXS", "WAXS"), ("USAXS",)),
             (("samx", "mm"), ("samz", "mm"), ("detz", "mm")),
             None, (12.23,), ("eiger2", "rayonix"), ("mon", "trans", "eiger2_roi1"),
             ("AgBeh", "latex", "micelles", "cellulose", "glucose"), ("sc", "ls"),
             (("ct", 2), ("loopscan", 4), ("timescan", 2), ("ascan", 1))),
    Beamline("ID19", (("XRCT",), ("XPCT",)), _LIN + (("srot", "deg"),),
             "srot", (), ("pco_edge", "iris15"), ("mon", "srcur"),
             ("fossil_tooth", "concrete", "bone", "Al_alloy", "SiC"), ("md", "hg", "es", "ma"),
             (("ct", 1), ("dscan", 1), ("fscan", 5), ("loopscan", 1))),
    Beamline("ID21", (("XRF",), ("XANES",), ("XRF", "XANES")), (("sy", "mm"), ("sz", "mm"), ("sx", "mm")),
             None, (2.145, 2.472, 4.038, 5.723, 7.112), ("fx_det0",), ("iodet", "fdet", "fx_S_K"),
             ("soil", "pigment", "magnetite", "hematite", "cellulose", "ZnO"), ("ev", "hg", "ls"),
             (("ct", 1), ("dscan", 1), ("amesh", 3), ("escan", 3))),
    Beamline("ID23-1", (("MX",), ("MX", "SAD")), (("phiy", "mm"), ("phiz", "mm"), ("phi", "deg")),
             "phi", (12.7, 12.66, 13.0), ("eiger",), ("mon", "i1"),
             ("lysozyme", "thaumatin", "insulin", "proteinaseK"), ("mx",),
             (("ct", 1), ("dscan", 1), ("fscan", 5))),
)
BEAMLINE = {bl.name: bl for bl in BEAMLINES}
INHOUSE = (("ihma", "ID11"), ("ihch", "BM23"), ("ihls", "ID23-1"), ("blc", "ID19"))

# key: (chemical formula or None, description)
SAMPLES: dict[str, tuple[str | None, str]] = {
    "CeO2_calib": ("CeO2", "NIST SRM 674b CeO₂ standard in a 0.3 mm capillary"),
    "LaB6": ("LaB6", "NIST SRM 660c LaB₆ line-position standard"),
    "hematite": ("Fe2O3", "α-Fe₂O₃ nanoparticles, ≈ 20 nm"),
    "quartz": ("SiO2", "α-quartz grains, Fontainebleau sand"),
    "glucose": ("C6H12O6", "D-glucose powder in H₂O, 50 mg/ml"),
    "Ni_foil": ("Ni", "Ni foil 5 µm for energy calibration"),
    "Cu_foil": ("Cu", "Cu foil 7.5 µm"),
    "ZnO": ("ZnO", "ZnO nanorods grown on Si(100)"),
    "Pt_Al2O3": ("Pt", "1 wt% Pt on γ-Al₂O₃, reduced in H₂ at 400 °C"),
    "BaTiO3": ("BaTiO3", "BaTiO₃ single crystal, tetragonal phase"),
    "MAPbI3": ("CH3NH3PbI3", "methylammonium lead iodide film (Müller group)"),
    "hydroxyapatite": ("Ca10(PO4)6(OH)2", "synthetic bone-mineral reference"),
    "cellulose": ("C6H10O5", "microcrystalline cellulose fibres"),
    "AgBeh": ("AgC22H43O2", "silver behenate calibrant, d = 58.38 Å"),
    "calcite": ("CaCO3", "Iceland spar cleavage fragment"),
    "magnetite": ("Fe3O4", "Fe₃O₄ grains in basalt matrix"),
    "SiC": ("SiC", "SiC fibre-reinforced composite"),
    "Al_alloy": ("Al", "AA2024 aluminium alloy, fatigue specimen"),
    "Ti6Al4V": ("Ti6Al4V", "additively manufactured Ti-6Al-4V strut"),
    "latex": ("(C8H8)n", "polystyrene latex spheres, 100 nm, in H₂O"),
    "micelles": ("C12H25NaO4S", "SDS micelles, 50 mM in D₂O"),
    "pigment": ("PbCrO4", "chrome-yellow paint cross-section, 19th century"),
    "lysozyme": (None, "hen egg-white lysozyme, space group P4₃2₁2"),
    "thaumatin": (None, "thaumatin crystals, cryo-cooled"),
    "insulin": (None, "cubic insulin crystals, I2₁3"),
    "proteinaseK": (None, "proteinase K soaked in 10 mM GdCl₃"),
    "collagen": (None, "rat-tail tendon collagen fibre"),
    "bone": ("Ca10(PO4)6(OH)2", "human femoral head biopsy, ethanol-fixed"),
    "fossil_tooth": (None, "Miocene fossil tooth, enamel–dentine junction"),
    "concrete": (None, "Portland cement paste, cured 28 days"),
    "soil": (None, "As-contaminated soil aggregate"),
}
VARIANTS = ("A", "B", "C", "2", "300K", "insitu", "dry", "wet", "ref", "pos2")
PEOPLE = (  # fictitious names; (name, affiliation)
    ("Anna Müller", "Technische Universität München"), ("José Martínez", "Universidad de Sevilla"),
    ("Åsa Lindström", "Uppsala universitet"), ("Jean-Pierre Dubois", "Université Grenoble Alpes"),
    ("Chiara Rossi", "Politecnico di Milano"), ("Łukasz Nowak", "Uniwersytet Warszawski"),
    ("Zoë Papadopoulou", "University of Manchester"), ("Mehmet Yılmaz", "ETH Zürich"),
    ("Yuki Tanaka", "University of Copenhagen"), ("Priya Raman", "Karolinska Institutet"),
    ("Élodie Fournier", "CNRS – Institut Néel"), ("Tomás Ó Briain", "Trinity College Dublin"),
    ("Ingrid Bergström", "Lunds universitet"), ("Dmitri Volkov", "Universität Wien"),
    ("Nadia Haddad", "Sorbonne Université"), ("Kwame Mensah", "University of Cambridge"),
    ("Sofía Herrera", "Universitat de Barcelona"), ("Josiah Carberry", "Brown University"),
)
STAFF = ("Marc Vidal", "Sara Conti", "Lena Hoffmann", "Hugo Moreau", "Inès Garnier", "Pavel Novák")
NOTES = ("sample moved by 50 µm after refill", "beam lost at 3.2 s, scan repeated",
         "Δθ offset corrected by 0.012°", "cryostream stable at 100 K", "new capillary, Ø 0.5 mm",
         "vérifié par Müller : pas de dommage radiatif", "Å-scale roughness expected on this face")
CUSTOM_TITLES = ("θ–2θ check after Ångström-level realignment", "XANES Fe K-edge – μ-spot {n}",
                 "Müller sample, ΔT = 5 K ramp", "Ω scan on Λ-shaped holder {n}",
                 "calibration — LaB₆ at 300 K", "in situ cell, ζ-potential series {n}")
MODES = ("7/8 multibunch", "uniform", "16 bunch", "4 bunch")


def creator_version(t: datetime) -> str:
    return {2019: "1.0.1", 2020: "1.4.0", 2021: "1.7.2", 2022: "1.9.0", 2023: "1.11.1",
            2024: "2.0.3", 2025: "2.1.4", 2026: "2.2.1"}[t.year]
