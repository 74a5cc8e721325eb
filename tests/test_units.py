"""mappings.units: SI conversion with the aliases of the PaNOSC reference. Expected values
are written out from CODATA/SI definitions, not computed with pint."""
from __future__ import annotations

import math

import pytest

from mappings.units import from_si, number, si_unit, to_si

EV = 1.602176634e-19  # J, exact by the 2019 SI definition


@pytest.mark.parametrize("value, unit, name, expected", [
    (25, "degC", "", (298.15, "K")),
    (20, "celsius", "temperature", (293.15, "K")),
    (20, "°C", "", (293.15, "K")),
    (20, "C", "sample_temperature", (293.15, "K")),
    (68, "fahrenheit", "", (293.15, "K")),
    (68, "F", "sample_temperature", (293.15, "K")),
    (300, "kelvin", "", (300.0, "K")),
    (300, "K", "", (300.0, "K")),
    (930, "eV", "photon_energy", (930 * EV, "J")),
    (0.93, "keV", "photon_energy", (930 * EV, "J")),
    (2, "J", "", (2.0, "J")),
    (1064, "nm", "wavelength", (1.064e-6, "m")),
    (10640, "angstrom", "wavelength", (1.064e-6, "m")),
    (10640, "Å", "wavelength", (1.064e-6, "m")),
    (1, "AA", "", (1e-10, "m")),
    (1, "ang", "", (1e-10, "m")),
    (1, "A", "incident_wavelength", (1e-10, "m")),
    (1, "A", "ring_current", (1.0, "A")),
    (1, "C", "charge", (1.0, "C")),
    (1, "F", "capacitance", (1.0, "F")),
    (500, "pm", "", (5e-10, "m")),
    (2, "mbar", "sample_pressure", (200.0, "Pa")),
    (1, "Torr", "", (101325 / 760, "Pa")),
    (10, "G", "field", (1e-3, "T")),
    (180, "deg", "", (math.pi, "rad")),
    (2, "h", "", (7200.0, "s")),
    ("930", "eV", "", (930 * EV, "J")),
    (" 1e3 ", "m", "", (1000.0, "m")),
])
def test_to_si(value, unit, name, expected):
    got = to_si(value, unit, name=name)
    assert got is not None
    assert got[1] == expected[1]
    assert math.isclose(got[0], expected[0], rel_tol=1e-12)


@pytest.mark.parametrize("value, unit", [
    (1, None), (1, ""), (1, "NA"), (1, "wibbles"), (1, "%"), (1, "counts"),
    (1, "rlu"), ("abc", "eV"), (float("nan"), "K"), (True, "K"), (1, "a.u."),
])
def test_unknown_units_and_values_give_none(value, unit):
    assert to_si(value, unit) is None


def test_from_si_is_the_inverse():
    for unit, name in (("celsius", "temperature"), ("keV", ""), ("angstrom", ""),
                       ("F", "temperature")):
        si = to_si(42.5, unit, name=name)
        assert si is not None
        assert math.isclose(from_si(si[0], unit, name=name), 42.5, rel_tol=1e-12)
    assert from_si(1.0, "not a unit") is None


def test_si_unit_and_number():
    assert si_unit("keV") == "J" and si_unit("Å") == "m" and si_unit("??") is None
    assert number("7300") == 7300.0 and number(3) == 3.0
    assert number("inf") is None and number(None) is None and number(False) is None
