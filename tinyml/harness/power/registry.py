"""The explicit list of meters. Driver modules load lazily so one broken vendor
package never hides the others (each driver also imports its vendor package
only when it opens)."""
from __future__ import annotations

import importlib

from ...core.errors import ConfigError
from .base import Meter, NoMeter

METER_NAMES: tuple[str, ...] = ("ppk2", "joulescope", "lpm01a", "none")

_CLASSES = {
    "ppk2": ("tinyml.harness.power.ppk2", "PPK2Meter"),
    "joulescope": ("tinyml.harness.power.joulescope_meter", "JoulescopeMeter"),
    "lpm01a": ("tinyml.harness.power.lpm01a", "LPM01AMeter"),
}


def get_meter(name: str | None, **options) -> Meter:
    """A configured, not yet opened meter. Unknown names or options are ConfigErrors."""
    name = (name or "none").lower()
    if name == "none":
        if options:
            raise ConfigError(f"meter 'none' takes no options (got {', '.join(sorted(options))})")
        return NoMeter()
    if name not in _CLASSES:
        raise ConfigError(f"unknown power meter '{name}'; known meters: {', '.join(METER_NAMES)}")
    module, cls = _CLASSES[name]
    meter_cls = getattr(importlib.import_module(module), cls)
    try:
        return meter_cls(**options)
    except (TypeError, ValueError) as e:     # an option the driver does not take, or a non-number
        raise ConfigError(f"meter '{name}': {e}; see `help({cls})` for its options") from None
