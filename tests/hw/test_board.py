"""Real board over its serial port: the same checks the emulator tests make.

Run on a bench: flash a board (`tinyml export --target esp32dev` then
`pio run -e esp32dev -t upload`), then
`pytest tests/hw --port /dev/ttyUSB0 --golden runs/default/golden.npz`.
Skipped unless --port is given (no board in CI).
"""
import pytest

from tinyml.model import golden
from tinyml.harness.client import DutClient
from tinyml.harness.transport import open_transport

pytestmark = pytest.mark.hw


@pytest.fixture(scope="module")
def dut(request):
    t = open_transport(request.config.getoption("--port"))
    client = DutClient(t)
    client.sync()
    yield client
    client.close()


@pytest.fixture(scope="module")
def gold(request):
    path = request.config.getoption("--golden")
    if not path:
        pytest.fail("give --golden runs/<name>/golden.npz with --port", pytrace=False)
    return golden.load(path)


def test_board_identifies_itself(dut):
    assert dut.name()
    info = dut.build_info()
    assert info["runtime"] in ("aot", "tflm")


def test_board_runs_golden_vectors_bit_exact(dut, gold):
    info = dut.build_info()
    assert info["model_sha256"] == gold.model_sha256
    assert dut.selftest().passed
    for i in range(len(gold)):
        data = gold.inputs[i].tobytes()
        dut.load_input(data)  # verifies the device's CRC32 of the upload
        r = dut.infer(1, 0)
        assert r.raw == gold.outputs[i].reshape(-1).tolist(), f"golden vector {i}"
