"""Number formatting shared by every report table. A missing value is "—", never 0."""
from __future__ import annotations

from typing import Any

DASH = "—"


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def fmt_pct(v: Any, digits: int = 2) -> str:
    return f"{100.0 * float(v):.{digits}f} %" if _is_num(v) else DASH


def fmt_points(a: Any, b: Any) -> str:
    """a − b of two accuracy fractions, in percentage points, always signed."""
    if not (_is_num(a) and _is_num(b)):
        return DASH
    return f"{100.0 * (float(a) - float(b)):+.2f} points"


def fmt_int(v: Any) -> str:
    return f"{int(v):,}" if _is_num(v) else DASH


def fmt_secs(v: Any) -> str:
    return f"{float(v):.1f} s" if _is_num(v) else DASH


def fmt_lsb(v: Any) -> str:
    return f"{int(v)} LSB" if _is_num(v) else DASH


def fmt_1(v: Any) -> str:
    return f"{float(v):,.1f}" if _is_num(v) else DASH


def fmt_mhz(hz: Any) -> str:
    if not _is_num(hz):
        return DASH
    mhz = float(hz) / 1e6
    return f"{mhz:g} MHz"


def fmt_triple(vals: list[Any], unit: str, fmt=fmt_int) -> str:
    """'a / b / c unit' (median / p90 / max), or — when none is known."""
    if not any(_is_num(v) for v in vals):
        return DASH
    return " / ".join(fmt(v) for v in vals) + f" {unit}"


def is_num(v: Any) -> bool:
    return _is_num(v)
