"""The factories' corpus varied for search tests: licences, file access, parameters in
several units (with `<name>_min`/`<name>_max` spans), and a technique narrower than
another one of the corpus (EXAFS under XAS), so facets, parameter ranges and deep
technique filters have something to tell apart."""
from __future__ import annotations

from dataclasses import replace

from mappings.record import Files, Parameter, Record, Technique, with_hash

from .factories import PANET, corpus

PANET_OWL_FILE = "PaNET-v1.1.0.owl"
EXAFS = Technique(PANET + "PaNET01198", "extended x-ray absorption fine structure")
XAS = PANET + "PaNET01196"
LICENCES = [None, "CC0-1.0", "CC-BY-4.0", "ODbL-1.0"]


def parameters(i: int) -> tuple[Parameter, ...]:
    out = [Parameter("temperature", 80.0 + i % 5, "K")]
    energy = {0: (930.0 + i, "eV"), 1: (0.9 + i / 1000, "keV"), 2: (12.4, "keV")}
    if i % 5 in energy:
        out.append(Parameter("photon_energy", *energy[i % 5]))
    temperature = {0: Parameter("sample_temperature", 20.0 + i, "degC"),
                   1: Parameter("sample_temperature", 280.0 + i, "K"),
                   3: Parameter("sample_temperature", "room", None)}
    if i % 6 in temperature:
        out.append(temperature[i % 6])
    elif i % 6 == 2:
        out += [Parameter("sample_temperature_min", 250.0, "K"),
                Parameter("sample_temperature_max", 320.0 + i, "K")]
    if i % 4 == 1:
        out.append(Parameter("wavelength", 0.1 + i / 100, "nm"))
    elif i % 4 == 2:
        out.append(Parameter("wavelength", 1.0 + i / 10, "angstrom"))
    return tuple(out)


def files(i: int) -> Files | None:
    if i % 3 == 0:
        return Files(count=2, access_url=f"https://data.example.org/files/r{i:05d}")
    if i % 7 == 0:
        return Files(count=1)  # files, but no public URL: metadata only
    return None


def vary(record: Record, i: int) -> Record:
    techniques = record.techniques + ((EXAFS,) if i % 11 == 0 else ())
    return with_hash(replace(record, license=LICENCES[(i // 2) % 4], files=files(i),
                             parameters=parameters(i), techniques=techniques))


def varied_corpus(n: int = 120) -> list[Record]:
    return [vary(r, i) for i, r in enumerate(corpus(n))]
