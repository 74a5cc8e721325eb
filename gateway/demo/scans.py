"""Bliss scan commands (`ct`, `loopscan`, `dscan`, `amesh`, `fscan`, energy `ascan`...):
their titles, number of points, count time and scanned axis, drawn for a beamline.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

from .catalogue import Beamline


def _fmt(x: float) -> str:
    return f"{x:g}"


@dataclass(frozen=True)
class ScanPlan:
    """One Bliss scan command as written in an entry's `title` and `measurement`."""

    title: str
    npts: int
    count_time: float
    axis: str
    lo: float
    hi: float
    measurement: bool  # False: alignment (ct, dscan)


def make_scan(rng: random.Random, bl: Beamline, kind: str) -> ScanPlan:
    lin = [m for m, u in bl.motors if u == "mm"]
    if kind == "ct":
        t = rng.choice((0.1, 0.5, 1, 2))
        return ScanPlan(f"ct {_fmt(t)}", 1, t, "elapsed_time", 0, t, False)
    if kind in ("loopscan", "timescan"):
        n, t = rng.choice((10, 20, 50, 100)), rng.choice((0.05, 0.1, 0.5, 1))
        title = f"loopscan {n} {_fmt(t)}" if kind == "loopscan" else f"timescan {_fmt(t)}"
        return ScanPlan(title, n, t, "elapsed_time", 0, n * t, True)
    if kind in ("ascan", "dscan"):
        m, width = rng.choice(lin), rng.choice((1, 2, 5, 9, 10))
        n, t = rng.choice((9, 10, 20, 40, 50)), rng.choice((0.1, 0.2, 0.5))
        a = -width / 2 if kind == "dscan" else round(rng.uniform(-5, 5), 1)
        title = f"{kind} {m} {_fmt(a)} {_fmt(a + width)} {n} {_fmt(t)}"
        return ScanPlan(title, n + 1, t, m, a, a + width, kind == "ascan")
    if kind == "amesh":
        m1, m2 = rng.sample(lin, 2)
        n1, n2 = rng.randint(4, 9), rng.randint(4, 9)
        h, t = rng.choice((0.05, 0.5, 1)), rng.choice((0.02, 0.05, 0.1))
        title = f"amesh {m1} {_fmt(-h)} {_fmt(h)} {n1} {m2} {_fmt(-h)} {_fmt(h)} {n2} {_fmt(t)}"
        return ScanPlan(title, (n1 + 1) * (n2 + 1), t, m1, -h, h, True)
    if kind == "fscan":
        n, turn = rng.choice((360, 720, 1440, 3600)), rng.choice((180, 360))
        t, motor = rng.choice((0.01, 0.02, 0.05, 0.08)), bl.rotation or "rot"
        return ScanPlan(f"fscan {motor} 0 {_fmt(turn / n)} {n} {_fmt(t)}", n, t, motor, 0, turn, True)
    if kind == "escan":
        return _escan(rng, bl)
    raise ValueError(kind)


def _escan(rng: random.Random, bl: Beamline) -> ScanPlan:
    e0 = rng.choice(bl.energies)
    a, b = round(e0 - 0.03, 3), round(e0 + rng.choice((0.1, 0.25, 0.6)), 3)
    n, t = rng.choice((100, 200, 300, 600)), rng.choice((0.1, 0.5, 1))
    return ScanPlan(f"ascan energy {_fmt(a)} {_fmt(b)} {n} {_fmt(t)}", n + 1, t, "energy", a, b, True)
