"""SIMULATORS of energy meters for tests/unit/test_power.py: protocol-level
stand-ins for a Nordic PPK2 and an ST LPM01A (on a pty) and the `joulescope`
package with a JS220. No real meter is involved; see docs/POWER.md."""
