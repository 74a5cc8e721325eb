"""Synthetic ICAT content at scale, deterministic for a seed.

One facility ``SYNTH`` with investigation/dataset types, datafile formats, 8 instruments (with
pids), 12 techniques with real PaNET ids (half as ``PaNET:PaNETnnnnn`` CURIEs as in the python-icat
dump, half as ``http://purl.org/pan-science/PaNET/PaNETnnnnn`` IRIs as ESRF writes them), users with
valid-checksum ORCIDs (every 7th without), parameter types with units, sample types, funding
references. Per investigation: 1-3 investigationUsers (the first is "Principal Investigator"),
one instrument, 2 keywords, 1-2 samples, every 5th a funding reference, and a release date:
index % 10 in 0..6 -> released (start + 3 years, all before 2025), 7..8 -> embargoed (2090+),
9 -> no release date (never public). Per dataset: type raw (analyzed for every 7th), a sample
(except every 5th), `parameters_per_dataset` DatasetParameters, one DatasetTechnique, one
DatasetInstrument, `datafiles_per_dataset` Datafiles. Ids continue the global sequence;
``createTime = modTime = GEN_EPOCH + id seconds``.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from .server import ROOT_ID

GEN_EPOCH = datetime(2021, 1, 1, tzinfo=timezone.utc)

TECHNIQUES = [("01188", "small angle x-ray scattering"), ("01196", "x-ray absorption spectroscopy"),
              ("01217", "neutron diffraction"), ("01207", "x-ray tomography"),
              ("01101", "x-ray powder diffraction"), ("01164", "macromolecular crystallography"),
              ("01189", "small angle neutron scattering"), ("01204", "x-ray photoelectron spectroscopy"),
              ("01177", "x-ray fluorescence"), ("01212", "ptychography"),
              ("01245", "inelastic neutron spectroscopy"), ("01239", "neutron reflectometry")]
PARAMETER_TYPES = [("Sample temperature", "K", "Kelvin", "NUMERIC", 2.0, 600.0),
                   ("Photon energy", "keV", "kiloelectronvolt", "NUMERIC", 2.0, 100.0),
                   ("Magnetic field", "T", "Tesla", "NUMERIC", 0.0, 15.0),
                   ("Sample pressure", "Pa", "Pascal", "NUMERIC", 1e3, 1e9),
                   ("Wavelength", "Angstrom", "Ångström", "NUMERIC", 0.5, 20.0),
                   ("Exposure time", "s", "second", "NUMERIC", 0.001, 60.0),
                   ("Beam current", "mA", "milliampere", "NUMERIC", 10.0, 200.0),
                   ("Scan type", "N/A", None, "STRING", None, None)]
SAMPLE_TYPES = [("Lysozyme", "C613H959N193O185S10"), ("Silicon", "Si"), ("Nickel oxide", "NiO"),
                ("Water", "H2O"), ("Graphene", "C"), ("Perovskite", "CaTiO3")]
GIVEN = ["Anna", "Ben", "Chloé", "Dmitri", "Eva", "Farid", "Greta", "Hiro", "Ines", "Jonas",
         "Kai", "Léa", "Marta", "Nils", "Olga", "Pierre", "Quentin", "Rosa", "Sven", "Tereza"]
FAMILY = ["Müller", "Dubois", "Rossi", "Novák", "García", "Jensen", "Kowalski", "Smith", "Tanaka",
          "Ødegård", "Silva", "Nagy", "Fischer", "Moreau", "Bianchi", "Svoboda", "López", "Berg"]
AFFILIATIONS = ["Synthetic Light Source", "University of Examples", "Institut Fictif",
                "Neutron Centre of Nowhere", None]


def orcid(n: int) -> str:
    base = f"{n:015d}"
    total = 0
    for ch in base:
        total = (total + int(ch)) * 2
    check = (12 - total % 11) % 11
    digits = base + ("X" if check == 10 else str(check))
    return "-".join(digits[i:i + 4] for i in range(0, 16, 4))


def generate(standin, n_datasets: int, *, seed: int = 2026, datasets_per_investigation: int = 20,
             parameters_per_dataset: int = 3, datafiles_per_dataset: int = 1) -> dict[str, int]:
    store = standin.store
    rnd = random.Random(seed)
    counts: dict[str, int] = {}
    insert = store.insert

    def add(etype: str, values: dict) -> int:
        rid = store.next_id
        store.next_id += 1
        counts[etype] = counts.get(etype, 0) + 1
        return insert(etype, values, user=ROOT_ID, when=GEN_EPOCH + timedelta(seconds=rid),
                      row_id=rid, check=False)

    fac = add("Facility", {"name": "SYNTH", "fullName": "Synthetic Light and Neutron Source",
                           "daysUntilRelease": 1095, "url": "https://synth.example.org/"})
    inv_type = add("InvestigationType", {"name": "Experiment", "facility": fac})
    raw = add("DatasetType", {"name": "raw", "facility": fac})
    analyzed = add("DatasetType", {"name": "analyzed", "facility": fac})
    nexus = add("DatafileFormat", {"name": "NeXus", "version": "N/A", "type": "application/x-hdf5",
                                   "facility": fac})
    instruments = [add("Instrument", {"name": f"BL{k:02d}", "fullName": f"Beamline {k:02d}",
                                      "pid": f"https://w3id.org/synth/instrument/BL{k:02d}",
                                      "type": "beamline", "facility": fac})
                   for k in range(1, 9)]
    techniques = []
    for k, (pid, label) in enumerate(TECHNIQUES):
        iri = f"PaNET:PaNET{pid}" if k % 2 == 0 else f"http://purl.org/pan-science/PaNET/PaNET{pid}"
        techniques.append(add("Technique", {"name": label, "pid": iri, "description": label}))
    ptypes = []
    for name, units, full, vt, lo, hi in PARAMETER_TYPES:
        v = {"name": name, "units": units, "valueType": vt, "facility": fac,
             "applicableToDataset": True, "applicableToInvestigation": False,
             "applicableToDatafile": False, "applicableToSample": False,
             "applicableToDataCollection": False, "enforced": False, "verified": False,
             "pid": f"https://w3id.org/synth/parameter/{name.replace(' ', '_')}"}
        if full:
            v["unitsFullName"] = full
        ptypes.append((add("ParameterType", v), vt, lo, hi))
    stypes = [add("SampleType", {"name": n, "molecularFormula": f, "facility": fac})
              for n, f in SAMPLE_TYPES]
    funders = [add("FundingReference", {"funderName": f"Research Council {k}",
                                        "awardNumber": f"RC-{2020 + k % 5}-{k:04d}",
                                        "funderIdentifier": f"https://doi.org/10.13039/5011000{k:05d}"})
               for k in range(20)]

    n_inv = max(1, -(-n_datasets // datasets_per_investigation))
    n_users = max(10, n_inv // 2)
    users = []
    for k in range(n_users):
        g, f = GIVEN[k % len(GIVEN)], FAMILY[(k * 7) % len(FAMILY)]
        v = {"name": f"db/user{k:05d}", "fullName": f"{g} {f}", "givenName": g, "familyName": f,
             "email": f"user{k:05d}@example.org"}
        if k % 7 != 3:
            v["orcidId"] = orcid(10_000_000 + k * 37)
        aff = AFFILIATIONS[k % len(AFFILIATIONS)]
        if aff:
            v["affiliation"] = aff
        users.append(add("User", v))

    made = 0
    start0 = datetime(2015, 1, 5, 8, 0, tzinfo=timezone.utc)
    for i in range(n_inv):
        start = start0 + timedelta(hours=37 * i % (24 * 365 * 9), minutes=i % 60)
        end = start + timedelta(days=1 + i % 6)
        phase = i % 10
        inv = {"name": f"SY-{i:06d}", "visitId": "1", "title": f"Synthetic experiment {i}",
               "summary": f"Measurements on sample series {i % 97} for proposal SY-{i:06d}.",
               "startDate": start, "endDate": end, "facility": fac, "type": inv_type}
        if phase <= 6:
            rel = start + timedelta(days=3 * 365)
            inv["releaseDate"] = min(rel, datetime(2024, 12, 31, tzinfo=timezone.utc))
        elif phase <= 8:
            inv["releaseDate"] = datetime(2090 + i % 10, 1, 1, tzinfo=timezone.utc)
        if i % 3 != 2:
            inv["doi"] = f"10.99999/SYNTH-{i:06d}"
        inv_id = add("Investigation", inv)
        for r in range(1 + i % 3):
            add("InvestigationUser", {"role": "Principal Investigator" if r == 0 else "Investigator",
                                      "investigation": inv_id,
                                      "user": users[(i * 3 + r * 11) % n_users]})
        instr = instruments[i % len(instruments)]
        add("InvestigationInstrument", {"investigation": inv_id, "instrument": instr})
        for w in (f"series-{i % 97}", SAMPLE_TYPES[i % len(SAMPLE_TYPES)][0].lower()):
            add("Keyword", {"name": w, "investigation": inv_id})
        if i % 5 == 0:
            add("InvestigationFunding", {"investigation": inv_id, "funding": funders[i % 20]})
        samples = []
        for s in range(1 + i % 2):
            samples.append(add("Sample", {"name": f"sample-{i}-{s}", "investigation": inv_id,
                                          "pid": f"IGSN:SYN{i:06d}{s}",
                                          "type": stypes[(i + s) % len(stypes)]}))
        technique = techniques[i % len(techniques)]
        n_here = min(datasets_per_investigation, n_datasets - made)
        for j in range(n_here):
            dstart = start + timedelta(hours=j)
            fsize = 1000 + rnd.randrange(10_000_000)
            ds = {"name": f"SY-{i:06d}-{j:03d}", "complete": False, "investigation": inv_id,
                  "type": analyzed if (made % 7 == 6) else raw,
                  "startDate": dstart, "endDate": dstart + timedelta(minutes=50),
                  "fileCount": datafiles_per_dataset, "fileSize": fsize * datafiles_per_dataset,
                  "location": f"/data/synth/SY-{i:06d}/{j:03d}",
                  "description": f"Scan {j} of SY-{i:06d}"}
            if made % 5 != 4:
                ds["sample"] = samples[j % len(samples)]
            ds_id = add("Dataset", ds)
            for k in range(parameters_per_dataset):
                pt, vt, lo, hi = ptypes[(j + k) % len(ptypes)]
                if vt == "NUMERIC":
                    pv = {"numericValue": round(lo + (hi - lo) * rnd.random(), 4)}
                else:
                    pv = {"stringValue": ("step", "continuous", "fly")[rnd.randrange(3)]}
                add("DatasetParameter", {**pv, "dataset": ds_id, "type": pt})
            add("DatasetTechnique", {"dataset": ds_id, "technique": technique})
            add("DatasetInstrument", {"dataset": ds_id, "instrument": instr})
            for f in range(datafiles_per_dataset):
                add("Datafile", {"name": f"scan_{j:03d}_{f}.nxs", "dataset": ds_id,
                                 "fileSize": fsize, "datafileFormat": nexus,
                                 "location": f"/data/synth/SY-{i:06d}/{j:03d}/scan_{j:03d}_{f}.nxs"})
            made += 1
    return counts
