"""report.html in headless Chromium (Debian package `chromium`): every plot is embedded, decodes,
and is drawn on screen, with no file beside the page. Never skipped: without Chromium this
test fails and names the package. Data: the hand-written fixtures in tests/unit/fixtures/.

Set TINYML_REPORT_SCREENSHOT=path.png to keep the screenshot for a human to look at.
"""
import base64
import json
import os
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from tinyml.report import write_report

FIX = Path(__file__).parent / "fixtures"
NAMES = ("chromium", "chromium-browser")
PLOTS = ["per-layer profile", "confusion matrix", "accuracy per stage", "time per stage"]

# Records what the browser made of each image, once everything has loaded.
PROBE = """<script>
addEventListener("load", () => {
  const imgs = [...document.images].map(i => ({alt: i.alt, complete: i.complete,
    w: i.naturalWidth, h: i.naturalHeight, shown: i.getBoundingClientRect().width,
    src: i.currentSrc.slice(0, 22)}));
  const fetched = performance.getEntriesByType("resource").map(e => e.name);
  const p = document.createElement("pre");
  p.id = "tinyml-probe";
  p.textContent = JSON.stringify({imgs, fetched});
  document.body.appendChild(p);
});
</script>"""


def chromium() -> str:
    exe = os.environ.get("CHROMIUM") or next(filter(None, map(shutil.which, NAMES)), None)
    if not exe:
        pytest.fail("headless Chromium is needed to check report.html: install the Debian package "
                    "'chromium' (`apt-get install chromium`; scripts/setup.sh installs it)")
    return exe


def run_chromium(exe, profile, url, *args):
    # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
           "--hide-scrollbars", f"--user-data-dir={profile}", *args, url]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, f"chromium failed ({r.returncode}): {r.stderr[-2000:]}"
    return r.stdout


def png_size(data: bytes):
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """report.html alone in an empty folder (its PNG files left behind)."""
    tmp = tmp_path_factory.mktemp("browser")
    run = tmp / "demo"
    run.mkdir()
    res = json.loads((FIX / "results_qemu_digits.json").read_text(encoding="utf-8"))
    man = json.loads((FIX / "manifest_digits.json").read_text())
    man["run"] = res["run"]
    (run / "manifest.json").write_text(json.dumps(man))
    shutil.copy(FIX / "check_digits.json", run / "check.json")
    (run / "results.json").write_text(json.dumps(res, ensure_ascii=False), encoding="utf-8")
    write_report(run)
    alone = tmp / "page"
    alone.mkdir()
    shutil.copy(run / "report.html", alone / "report.html")
    return alone / "report.html", tmp


def test_plots_embedded_and_decoded_in_chromium(page):
    exe = chromium()
    html_path, tmp = page
    html = html_path.read_text(encoding="utf-8")
    probe = html_path.with_name("probe.html")
    probe.write_text(html.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    dom = run_chromium(exe, tmp / "profile", probe.as_uri(), "--virtual-time-budget=10000", "--dump-dom")
    m = re.search(r'<pre id="tinyml-probe">(.*?)</pre>', dom, re.S)
    assert m, f"the page never finished loading in Chromium; DOM starts: {dom[:500]!r}"
    got = json.loads(m.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert got["fetched"] == []                      # nothing loaded from outside the page
    assert [i["alt"] for i in got["imgs"]] == PLOTS
    # the size the browser decoded equals the size inside each embedded PNG
    embedded = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    assert len(embedded) == len(PLOTS)
    for img, b64 in zip(got["imgs"], embedded):
        w, h = png_size(base64.b64decode(b64))
        assert img["complete"] and img["src"] == "data:image/png;base64,"
        assert (img["w"], img["h"]) == (w, h) and w > 300 and h > 200, img
        assert img["shown"] > 300, img


def _near(px, rgb, tol=0.03):
    import numpy as np
    target = np.array([int(rgb[i:i + 2], 16) / 255 for i in (1, 3, 5)])
    return int((np.abs(px[..., :3] - target) < tol).all(axis=-1).sum())


def test_screenshot_shows_the_plots(page):
    exe = chromium()
    html_path, tmp = page
    shot = tmp / "report.png"
    run_chromium(exe, tmp / "profile2", html_path.as_uri(), "--window-size=1000,6000",
                 f"--screenshot={shot}")
    assert shot.is_file(), "Chromium wrote no screenshot"
    if os.environ.get("TINYML_REPORT_SCREENSHOT"):
        shutil.copy(shot, os.environ["TINYML_REPORT_SCREENSHOT"])
    import matplotlib.image
    px = matplotlib.image.imread(shot)
    assert px.shape[0] == 6000 and px.shape[1] == 1000
    # the bar colours of the plots really are on screen (a broken image shows none of them)
    from tinyml.report import plots
    for colour, name in ((plots.BLUE, "latency/accuracy bars"), (plots.GREEN, "per-layer bars"),
                         (plots.ORANGE, "time-per-stage bars")):
        assert _near(px, colour) > 5000, f"{name} ({colour}) not visible in {shot}"
