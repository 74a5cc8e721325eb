"""Units: a parameter value in SI, so that "20 celsius", "293.15 K" and "68 F" compare equal.

The one SI conversion of the code base: the search indexes store `value_si` with it and the
PaNOSC API converts the values of a query with it. Conversion factors come from `pint` (one
registry, created on first use: creating it takes a third of a second); each unit is
resolved once to a linear `(factor, offset, SI unit)` triple, so converting is arithmetic.

Facilities write units loosely. Besides pint's own names (`eV`, `keV`, `nm`, `mbar`, ...)
this accepts the spellings of the PaNOSC portal and PaN-Finder
(../shared/reference/panosc-search-api.md, Units): `angstrom`/`Å`/`AA`/`ang`,
`celsius`/`degC`/`°C`, `fahrenheit`/`degF`/`°F`, `kelvin`, `micron`, ... Two symbols are
ambiguous and are read by the parameter's name: `C` is degrees Celsius for a temperature
(a name containing "temp"), else the coulomb; `F` is degrees Fahrenheit for a temperature,
else the farad; `A` is the ångström for a length (wavelength, distance, ...), else the
ampere. Unknown units, empty units, "NA" and dimensionless quantities other than angles
give None: such values only compare as they are written.
"""
from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Any

# SI units a result is expressed in, tried in this order (first with the same dimension).
_SI_UNITS = ("m", "kg", "s", "A", "K", "mol", "cd", "J", "N", "Pa", "W", "Hz", "V", "C",
             "ohm", "F", "Wb", "T", "H", "S", "m^2", "m^3", "m/s", "m/s^2", "kg/m^3",
             "mol/m^3", "J/K", "Gy", "V/m", "A/m", "Pa*s", "m^2/s")
_ANGLES = ("radian", "degree", "arcminute", "arcsecond", "turn", "gradian")

_ALIASES = {
    "å": "angstrom", "aa": "angstrom", "ang": "angstrom", "angstroms": "angstrom",
    "ångström": "angstrom", "ångstrom": "angstrom", "Å": "angstrom", "Å": "angstrom",
    "celsius": "degC", "°c": "degC", "degc": "degC", "deg c": "degC", "deg_c": "degC",
    "degree celsius": "degC", "degrees celsius": "degC", "℃": "degC",
    "fahrenheit": "degF", "°f": "degF", "degf": "degF", "deg f": "degF", "℉": "degF",
    "kelvin": "K", "kelvins": "K", "°k": "K",
    "micron": "micrometer", "microns": "micrometer", "µ": "micrometer", "μm": "micrometer",
    "h": "hour", "hr": "hour", "hrs": "hour", "g": "gram", "gauss": "0.0001 tesla",
    "torr": "torr", "°": "degree",
    "degrees": "degree", "sec": "second", "secs": "second", "mins": "minute",
}
# written in exact case (a lower-case key above covers the other spellings)
_EXACT = {"G": "0.0001 tesla", "Gs": "0.0001 tesla", "h": "hour", "g": "gram", "T": "tesla",
          "K": "kelvin"}
_NOT_UNITS = {"", "na", "n/a", "none", "null", "-", "a.u.", "au", "arb", "arb.", "a.u",
              "counts", "count", "cts", "rlu", "unitless", "dimensionless", "1", "?"}
_TEMPERATURE = re.compile(r"(?i)temp")
_LENGTH = re.compile(r"(?i)wave ?length|lambda|length|distance|thickness|radius|diameter|"
                     r"size|spacing|d_?spacing|lattice|width|height|depth|resolution")


def _context(name: str) -> str:
    """What a parameter's name says about its ambiguous unit symbols."""
    if _TEMPERATURE.search(name):
        return "temperature"
    return "length" if _LENGTH.search(name) else ""


def _normalise(unit: str, context: str) -> str | None:
    """The pint spelling of a unit as facilities write it; None for "no unit"."""
    text = " ".join(unit.strip().split())
    if text.lower() in _NOT_UNITS:
        return None
    if text in _EXACT:
        return _EXACT[text]
    if text == "C":
        return "degC" if context == "temperature" else "coulomb"
    if text == "F":
        return "degF" if context == "temperature" else "farad"
    if text == "A":
        return "angstrom" if context == "length" else "ampere"
    return _ALIASES.get(text, _ALIASES.get(text.lower(), text))


@lru_cache(maxsize=1)
def _registry() -> Any:
    import pint

    return pint.UnitRegistry()


@lru_cache(maxsize=4096)
def _linear(unit: str, context: str) -> tuple[float, float, str] | None:
    """(factor, offset, SI unit) with si = value * factor + offset, or None if unknown."""
    spelled = _normalise(unit, context)
    if spelled is None:
        return None
    ureg = _registry()
    scale, _, spelled = spelled.rpartition(" ") if spelled[0].isdigit() else ("1", "", spelled)
    try:
        parsed = ureg.Unit(spelled)
        if parsed.dimensionless:
            if not str(parsed).endswith(_ANGLES):
                return None
            target = "radian"
            shown = "rad"
        else:
            target = next(si for si in _SI_UNITS
                          if ureg.Unit(si).dimensionality == parsed.dimensionality)
            shown = target
        offset = ureg.Quantity(0.0, parsed).to(target).magnitude
        factor = (ureg.Quantity(1.0, parsed).to(target).magnitude - offset) * float(scale)
    except StopIteration:  # a dimension without a named SI unit (e.g. m^5/kg)
        return None
    except Exception:  # pint raises parser, lookup and dimensionality errors of many types
        return None
    if not (math.isfinite(factor) and math.isfinite(offset)) or factor == 0:
        return None
    return float(factor), float(offset), shown


def number(value: float | int | str | None) -> float | None:
    """A finite float from a number or a numeric string ("930", " 1e3 "), else None.
    Booleans are not numbers here."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        out = float(value.strip()) if isinstance(value, str) else float(value)
    except (ValueError, OverflowError, TypeError):
        return None
    return out if math.isfinite(out) else None


def si_unit(unit: str | None, *, name: str = "") -> str | None:
    """The SI unit a value in `unit` converts to ("K" for "celsius"), None if unknown."""
    linear = _linear(unit, _context(name)) if unit else None
    return linear[2] if linear else None


def to_si(value: float | int | str, unit: str | None, *, name: str = "",
          ) -> tuple[float, str] | None:
    """(value in SI, SI unit) for a number (or numeric string) in `unit`, reading ambiguous
    symbols by the parameter `name` (see the module docstring). None when the value is not
    a finite number or the unit is unknown, absent or dimensionless (angles excepted)."""
    x = number(value)
    linear = _linear(unit, _context(name)) if unit and x is not None else None
    if linear is None:
        return None
    factor, offset, shown = linear
    si = x * factor + offset
    return (si, shown) if math.isfinite(si) else None


def from_si(value: float, unit: str, *, name: str = "") -> float | None:
    """The inverse of `to_si`: an SI value expressed in `unit`; None if `unit` is unknown."""
    linear = _linear(unit, _context(name))
    if linear is None:
        return None
    factor, offset, _ = linear
    return (value - offset) / factor
