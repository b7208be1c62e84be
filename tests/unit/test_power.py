"""tinyml.harness.power: trace integration, results, estimates, and each meter driver
against a SIMULATOR of that meter (tests/unit/power_sim/; no real meter in CI).

Every driver must integrate the trigger-marked window to within 1% of the
simulator's analytically known energy.
"""
from __future__ import annotations

import sys
import time

import numpy as np
import pytest

from tinyml.core.errors import ConfigError, DeviceError, ToolMissingError
from tinyml.harness.power import (BOARD_POWER, METER_NAMES, EnergyResult, NoMeter, PowerTrace,
                                  energy_per_inference, estimate_energy, get_meter, not_measured,
                                  window_from_device_times)

from power_sim.joulescope_sim import FakeJS220, fake_module
from power_sim.lpm01a_sim import LPM01ASim, ascii_dec
from power_sim.ppk2_sim import PPK2Sim
from power_sim.waveform import Waveform

KEYS = ["status", "meter", "uj_per_inference", "mean_power_mw", "supply_v", "window_s", "inferences", "basis"]
MISSING_PORT = "/dev/ttyNOPE-tinyml-test"


def one_line(err: Exception, *words: str) -> str:
    text = str(err)
    assert "\n" not in text, text
    for w in words:
        assert w in text, (w, text)
    return text


def eventually(cond, seconds: float = 2.0) -> bool:
    """The simulator thread handles bytes a moment after the driver wrote them."""
    end = time.monotonic() + seconds
    while not cond() and time.monotonic() < end:
        time.sleep(0.01)
    return cond()


def capture(meter, sim) -> PowerTrace:
    with meter:
        meter.start()
        assert sim.done.wait(10), "simulator never finished streaming"
        return meter.stop()


def assert_within_1pct(trace: PowerTrace, wave: Waveform, inferences: int = 25) -> EnergyResult:
    r = energy_per_inference(trace, inferences)
    known = wave.energy()
    got = r.uj_per_inference * 1e-6 * inferences
    assert abs(got / known - 1) < 0.01, (got, known)
    assert r.status == "measured" and list(r.to_dict()) == KEYS
    assert r.window_s == pytest.approx(wave.t_end - wave.t_start, rel=0.01)
    assert r.mean_power_mw == pytest.approx(known / (wave.t_end - wave.t_start) * 1e3, rel=0.01)
    return r


@pytest.fixture
def sims():
    made = []
    yield made
    for s in made:
        s.close()


# ------------------------------------------------------------------ trace maths
def test_point_trace_window_edges_between_samples_are_exact():
    t = np.linspace(0.0, 1.0, 101)                       # 10 ms samples
    tr = PowerTrace(t=t, power_w=2.0 + 3.0 * t, voltage_v=3.3)
    a, b = 0.01234, 0.45678                              # neither on the grid
    exact = 2.0 * (b - a) + 1.5 * (b * b - a * a)        # trapezoid is exact for linear power
    assert tr.energy_j(a, b) == pytest.approx(exact, rel=1e-12)
    assert tr.mean_power_w(a, b) == pytest.approx(exact / (b - a), rel=1e-12)
    assert tr.energy_j(0.0, 1.0) == pytest.approx(2.0 + 1.5, rel=1e-12)


def test_point_trace_edges_inside_one_sample_interval():
    tr = PowerTrace(t=[0.0, 1.0, 2.0], power_w=[0.0, 10.0, 10.0], voltage_v=1.0)
    # power rises linearly from 0 to 10 W across [0, 1]: integral of 10 t over [0.2, 0.7]
    assert tr.energy_j(0.2, 0.7) == pytest.approx(5.0 * (0.49 - 0.04), rel=1e-12)


def test_interval_trace_is_a_step_function():
    tr = PowerTrace(t=np.arange(4) * 0.5, power_w=[1.0, 2.0, 4.0, 8.0], voltage_v=3.0, interval_s=0.5)
    assert tr.end_s == 2.0
    assert tr.energy_j(0.0, 2.0) == pytest.approx(7.5)
    assert tr.energy_j(0.25, 1.75) == pytest.approx(0.25 * 1 + 0.5 * 2 + 0.5 * 4 + 0.25 * 8)
    assert tr.energy_j(0.6, 0.9) == pytest.approx(0.3 * 2)


def test_window_outside_the_capture_is_a_clear_error():
    tr = PowerTrace(t=np.arange(10) * 0.1, power_w=np.ones(10), voltage_v=3.3, meter="ppk2")
    with pytest.raises(DeviceError) as e:
        tr.energy_j(0.5, 1.5)
    one_line(e.value, "ppk2", "outside the capture")


def test_trigger_window_from_digital_edges_and_meter_events():
    t = np.arange(1000) * 1e-3
    level = np.ones(1000, np.uint8)
    level[[5, 100, 101, 700]] = 0                       # glitch, then start pulse (2 samples), end pulse
    tr = PowerTrace(t=t, power_w=np.ones(1000), voltage_v=3.3, digital=level << 2)
    assert tr.edges(channel=0).size == 0                 # trigger is on D2 here
    assert len(tr.edges(channel=2)) == 3
    assert tr.trigger_window(channel=2) == pytest.approx((0.0995, 0.6995))   # last two, midway between samples
    tr2 = PowerTrace(t=t, power_w=np.ones(1000), voltage_v=3.3, events=[0.25, 0.5])
    assert tr2.trigger_window() == (0.25, 0.5)


def test_missing_trigger_edges_say_what_to_check():
    tr = PowerTrace(t=np.arange(10) * 0.1, power_w=np.ones(10), voltage_v=3.3, meter="joulescope",
                    digital=np.ones(10, np.uint8))
    with pytest.raises(DeviceError) as e:
        energy_per_inference(tr, 5)
    one_line(e.value, "joulescope", "0 trigger edge", "TM_TRIGGER_PIN")


def test_energy_result_from_a_given_window_and_device_times():
    tr = PowerTrace(t=np.arange(101) * 0.01, power_w=np.full(101, 0.05), voltage_v=1.8, meter="x")
    w = window_from_device_times(2.0, 2.5, dev_anchor_s=1.9, meter_anchor_s=0.3)
    assert w == pytest.approx((0.4, 0.9))
    r = energy_per_inference(tr, 50, window=w).to_dict()
    assert r["uj_per_inference"] == pytest.approx(0.05 * 0.5 / 50 * 1e6)
    assert r["mean_power_mw"] == pytest.approx(50.0) and r["supply_v"] == 1.8 and r["inferences"] == 50
    assert "given window" in r["basis"]
    assert not_measured().to_dict()["status"] == "not measured"
    assert energy_per_inference(None, 10).status == "not measured"      # what the `none` meter gives
    with pytest.raises(ValueError):
        EnergyResult("guessed", None, None, None, None, None, None, "")


# ------------------------------------------------------------------ estimates
def test_estimate_is_labelled_and_never_measured():
    r = estimate_energy(0.010, board="esp32dev").to_dict()
    assert list(r) == KEYS and r["status"] == "estimated" and r["meter"] is None
    assert r["uj_per_inference"] == pytest.approx(0.068 * 3.3 * 0.010 * 1e6)
    assert "estimated" in r["basis"] and "ESP32 Series Datasheet" in r["basis"] and "latency" in r["basis"]
    given = estimate_energy(0.002, board="pico", board_power_w=0.1).to_dict()
    assert given["status"] == "estimated" and given["uj_per_inference"] == pytest.approx(200.0)


def test_estimate_without_a_figure_is_not_measured():
    for board in ("qemu_m4", "pico", "no_such_board"):
        r = estimate_energy(0.01, board=board).to_dict()
        assert r["status"] == "not measured" and r["uj_per_inference"] is None, board
    assert all(p.source for p in BOARD_POWER.values())
    assert BOARD_POWER["qemu_m4"].active_w is None
    with pytest.raises(ConfigError):
        estimate_energy(0.01, board_power_w=-1.0)


# ------------------------------------------------------------------ registry
def test_registry_names_and_option_errors():
    assert METER_NAMES == ("ppk2", "joulescope", "lpm01a", "none")
    none = get_meter("none")
    assert isinstance(none, NoMeter)
    with none:
        none.start()
        assert none.stop() is None
    with pytest.raises(ConfigError) as e:
        get_meter("monsoon")
    one_line(e.value, "monsoon", "ppk2, joulescope, lpm01a, none")
    with pytest.raises(ConfigError) as e:
        get_meter("ppk2", port="/dev/null", supply_v=3.3, sample_rate=5)
    one_line(e.value, "ppk2", "sample_rate")
    for name in ("ppk2", "lpm01a"):                     # they power the board: no guessed voltage
        with pytest.raises(ConfigError) as e:
            get_meter(name, port="/dev/null")
        one_line(e.value, name, "supply_v")
    with pytest.raises(ConfigError):
        get_meter("lpm01a", port="/dev/null", supply_v=5.0)


# ------------------------------------------------------------------ PPK2 (simulator)
def test_ppk2_simulator_energy_within_1pct(sims):
    wave = Waveform()
    sim = PPK2Sim(wave).start()
    sims.append(sim)
    tr = capture(get_meter("ppk2", port=sim.port, supply_v=3.3), sim)
    assert (sim.mode, sim.vdd_mv) == ("source", 3300)
    assert eventually(lambda: sim.dut_power is False)   # switched off again at close
    assert tr.meta["lost_samples"] == 0 and tr.meter == "ppk2"
    r = assert_within_1pct(tr, wave)
    assert r.supply_v == 3.3


def test_ppk2_lost_samples_keep_the_time_axis(sims):
    wave = Waveform()
    sim = PPK2Sim(wave, drop=(5000, 5001, 5002, 12345, 20000)).start()
    sims.append(sim)
    tr = capture(get_meter("ppk2", port=sim.port, supply_v=3.3, mode="ampere"), sim)
    assert sim.mode == "ampere" and sim.vdd_mv is None   # ampere mode: the PPK2 does not set VOUT
    assert tr.meta["lost_samples"] == 5
    assert tr.t[-1] == pytest.approx(wave.duration - 10e-6)
    r = assert_within_1pct(tr, wave)
    assert "5 sample(s)" in r.basis


def test_ppk2_port_that_does_not_exist():
    with pytest.raises(DeviceError) as e:
        get_meter("ppk2", port=MISSING_PORT, supply_v=3.3).open()
    one_line(e.value, "ppk2", MISSING_PORT, "check the port name")


@pytest.mark.parametrize("behaviour,words", [("silent", ["did not answer", "replug"]),
                                             ("garbage_meta", ["did not answer", "without END"])])
def test_ppk2_that_does_not_answer(sims, behaviour, words):
    sim = PPK2Sim(Waveform(), behaviour=behaviour).start()
    sims.append(sim)
    with pytest.raises(DeviceError) as e:
        get_meter("ppk2", port=sim.port, supply_v=3.3, timeout=0.5).open()
    one_line(e.value, "ppk2", sim.port, *words)


def test_ppk2_garbage_stream_is_refused(sims):
    sim = PPK2Sim(Waveform(), behaviour="garbage_stream").start()
    sims.append(sim)
    with pytest.raises(DeviceError) as e:
        capture(get_meter("ppk2", port=sim.port, supply_v=3.3), sim)
    one_line(e.value, "ppk2", sim.port, "not PPK2 sample data")


def test_serial_meters_without_pyserial(monkeypatch):
    monkeypatch.setitem(sys.modules, "serial", None)     # import serial -> ImportError
    for name in ("ppk2", "lpm01a"):
        with pytest.raises(ToolMissingError) as e:
            get_meter(name, port="/dev/ttyACM0", supply_v=3.3).open()
        one_line(e.value, name, "pip install pyserial")


# ------------------------------------------------------------------ LPM01A (simulator)
LPM_WAVE = Waveform(supply_v=3.297, t_start=0.1234567, t_end=0.7234567, duration=0.9)


def test_lpm01a_simulator_energy_within_1pct(sims):
    sim = LPM01ASim(LPM_WAVE).start()
    sims.append(sim)
    tr = capture(get_meter("lpm01a", port=sim.port, supply_v=3.3), sim)
    assert sim.commands[:12] == ["htc", "pwr off", "acqtime inf", "trigdelay 0", "trigsrc sw", "eventsrc d7 fal",
                                 "output energy", "format ascii_dec", "freq 1k", "volt 3300m", "volt get",
                                 "pwr on nostatus"]
    assert sim.commands[-4:] == ["start", "stop", "pwr off", "hrc"]
    assert tr.interval_s == 1e-3 and len(tr.events) == 2 and tr.meta["stop_confirmed"]
    r = assert_within_1pct(tr, LPM_WAVE)
    assert r.supply_v == pytest.approx(3.297)            # what `volt get` reported, not the setting


def test_lpm01a_few_garbled_lines_are_bridged_many_refused(sims):
    sim = LPM01ASim(LPM_WAVE, garble_every=150).start()  # 6 of 900 lines: 0.7%
    sims.append(sim)
    tr = capture(get_meter("lpm01a", port=sim.port, supply_v=3.3), sim)
    assert tr.meta["garbled_lines"] == 6
    assert_within_1pct(tr, LPM_WAVE)
    sim2 = LPM01ASim(LPM_WAVE, garble_every=20).start()  # 5%
    sims.append(sim2)
    with pytest.raises(DeviceError) as e:
        capture(get_meter("lpm01a", port=sim2.port, supply_v=3.3), sim2)
    one_line(e.value, "lpm01a", sim2.port, "45 of 900 sample lines unreadable")


def test_lpm01a_port_that_does_not_exist():
    with pytest.raises(DeviceError) as e:
        get_meter("lpm01a", port=MISSING_PORT, supply_v=3.3).open()
    one_line(e.value, "lpm01a", MISSING_PORT, "check the port name")


@pytest.mark.parametrize("behaviour,words", [("silent", ["did not acknowledge `htc`", "got nothing"]),
                                             ("garbage", ["did not acknowledge `htc`", "?? x"]),
                                             ("reject:eventsrc", ["refused `eventsrc d7 fal`",
                                                                  "argument out of range"])])
def test_lpm01a_that_does_not_answer_or_refuses(sims, behaviour, words):
    sim = LPM01ASim(LPM_WAVE, behaviour=behaviour).start()
    sims.append(sim)
    with pytest.raises(DeviceError) as e:
        get_meter("lpm01a", port=sim.port, supply_v=3.3, timeout=0.5).open()
    one_line(e.value, "lpm01a", sim.port, *words)


def test_ascii_dec_format_matches_the_manual_example():
    assert ascii_dec(640.9e-6) == "6409-07"              # ST's example: 6409-07 = 640.9 uA


# ------------------------------------------------------------------ Joulescope (simulated package)
def test_joulescope_simulator_energy_within_1pct(monkeypatch):
    wave = Waveform(series_ohm=0.5)                      # voltage sags with load: per-sample V matters
    dev = FakeJS220(wave)
    monkeypatch.setitem(sys.modules, "joulescope", fake_module([dev]))
    meter = get_meter("joulescope", sampling_frequency=200_000)
    with meter:
        meter.start()
        tr = meter.stop()
    assert not dev.is_open and dev.params["sampling_frequency"] == 200_000 and dev.params["current_lsb"] == "gpi0"
    assert tr.meta["lost_samples"] == 7 and tr.meta["first_sample_id"] == 123_456
    r = assert_within_1pct(tr, wave)
    assert r.supply_v == pytest.approx(3.3 - 0.5 * 0.02, abs=2e-3)


def test_joulescope_package_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "joulescope", None)
    with pytest.raises(ToolMissingError) as e:
        get_meter("joulescope").open()
    one_line(e.value, "joulescope", "pip install")


@pytest.mark.parametrize("devices,words", [([], "no devices found"), ([1, 2], "multiple devices found")])
def test_joulescope_not_found(monkeypatch, devices, words):
    monkeypatch.setitem(sys.modules, "joulescope", fake_module(devices))
    with pytest.raises(DeviceError) as e:
        get_meter("joulescope").open()
    one_line(e.value, "joulescope", words, "Joulescope UI")
