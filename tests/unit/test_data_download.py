"""download.py against a local http.server, safe extraction, and the
speech_commands / cifar10 loaders end to end on tiny archives built here."""
import dataclasses
import hashlib
import io
import os
import pickle
import socket
import tarfile
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from tinyml.config import schema as config
from tinyml.data import download, load_dataset
from tinyml.data.audio import read_wav, write_wav
from tinyml.data.features import extract, spec_from_config
from tinyml.core.errors import DataError


class _Server:
    """Serves `files` {path: bytes}; /cut/<path> sends half the body then hangs up."""

    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.hits: dict[str, int] = {}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                outer.hits[self.path] = outer.hits.get(self.path, 0) + 1
                cut = self.path.startswith("/cut/")
                body = outer.files.get(self.path[4:] if cut else self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2] if cut else body)
                if cut:
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)

            def log_message(self, *a):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = _Server()
    yield s
    s.close()


def _tar_gz(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _files(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


# ---------------------------------------------------------------- fetch

def test_fetch_progress_cache_hit_and_extract(server, tmp_path, capsys):
    payload = _tar_gz({"pack/a.txt": b"hello" * 1000, "pack/sub/b.txt": b"world"})
    server.files["/data/pack.tar.gz"] = payload
    sha = hashlib.sha256(payload).hexdigest()
    url = server.url + "/data/pack.tar.gz"
    p = download.fetch(url, "demo", sha256=sha, root=tmp_path, progress=True)
    assert p == tmp_path / "demo" / "pack.tar.gz" and p.read_bytes() == payload
    err = capsys.readouterr().err
    assert "pack.tar.gz" in err and "100%" in err           # the tqdm bar ran to the end
    assert server.hits["/data/pack.tar.gz"] == 1
    # Cache hit: second call does not touch the server.
    assert download.fetch(url, "demo", sha256=sha, root=tmp_path) == p
    assert server.hits["/data/pack.tar.gz"] == 1
    out = download.fetch_and_extract(url, "demo", sha256=sha, root=tmp_path, progress=False)
    assert out == tmp_path / "demo" / "pack"
    assert (out / "pack" / "sub" / "b.txt").read_bytes() == b"world"
    assert server.hits["/data/pack.tar.gz"] == 1
    assert not [f for f in _files(tmp_path) if ".tmp" in f or ".extract" in f]


def test_env_var_sets_root(monkeypatch, tmp_path, server):
    monkeypatch.setenv("TINYML_DATASETS", str(tmp_path / "envroot"))
    assert download.datasets_root() == tmp_path / "envroot"
    cfg = dataclasses.replace(config.load().data, cache_dir=str(tmp_path / "cfgroot"))
    assert download.datasets_root(cfg) == tmp_path / "cfgroot"
    server.files["/x.bin"] = b"abc"
    assert download.fetch(server.url + "/x.bin", "n").parent == tmp_path / "envroot" / "n"


def test_sha_mismatch_keeps_nothing(server, tmp_path):
    server.files["/f.bin"] = b"x" * 5000
    with pytest.raises(DataError, match=r"(?s)/f\.bin has sha256 .* expected 00+"):
        download.fetch(server.url + "/f.bin", "demo", sha256="0" * 64, root=tmp_path, progress=False)
    assert _files(tmp_path / "demo") == []


def test_interrupted_download_leaves_no_file(server, tmp_path):
    server.files["/big.bin"] = os.urandom(200_000)
    with pytest.raises(DataError, match=r"cut/big\.bin was cut short: got \d+ of 200000 bytes"):
        download.fetch(server.url + "/cut/big.bin", "demo", root=tmp_path, progress=False)
    assert _files(tmp_path / "demo") == []


def test_http_error_and_no_network_say_what_to_do(server, tmp_path):
    with pytest.raises(DataError, match=r"(?s)missing\.tar\.gz: HTTP 404.*internet.*place it at .*demo/missing\.tar\.gz"):
        download.fetch(server.url + "/missing.tar.gz", "demo", root=tmp_path, progress=False)
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()                                  # nothing listens there now
    url = f"http://127.0.0.1:{port}/d.tar.gz"
    with pytest.raises(DataError, match=rf"(?s)could not download {url}.*needs internet access"):
        download.fetch(url, "demo", root=tmp_path, progress=False)
    assert _files(tmp_path / "demo") == []


def test_placed_by_hand_is_used_and_checked(tmp_path):
    dead = "http://127.0.0.1:9/never.tar.gz"   # never contacted
    d = tmp_path / "demo"
    d.mkdir()
    (d / "never.tar.gz").write_bytes(b"by hand")
    good = hashlib.sha256(b"by hand").hexdigest()
    assert download.fetch(dead, "demo", sha256=good, root=tmp_path).read_bytes() == b"by hand"
    with pytest.raises(DataError, match=r"cached file .*never\.tar\.gz has sha256"):
        download.fetch(dead, "demo", sha256="1" * 64, root=tmp_path)


# ---------------------------------------------------------------- extraction safety

@pytest.mark.parametrize("name", ["../evil.txt", "/tmp/tinyml-abs-evil.txt", "ok/../../evil.txt"])
def test_tar_path_traversal_is_refused(tmp_path, name):
    arc = tmp_path / "bad.tar.gz"
    arc.write_bytes(_tar_gz({"fine.txt": b"1", name: b"pwned"}))
    with pytest.raises(DataError, match="unsafe member"):
        download.extract(arc, tmp_path / "out")
    assert not (tmp_path / "out").exists() and not (tmp_path / "evil.txt").exists()
    assert not os.path.exists("/tmp/tinyml-abs-evil.txt")
    assert [p.name for p in tmp_path.iterdir()] == ["bad.tar.gz"]


def test_tar_symlink_is_refused(tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        link = tarfile.TarInfo("link")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        tf.addfile(link)
    arc = tmp_path / "l.tar"
    arc.write_bytes(buf.getvalue())
    with pytest.raises(DataError, match="link or special file"):
        download.extract(arc, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_zip_extracts_and_refuses_traversal(tmp_path):
    good = tmp_path / "g.zip"
    with zipfile.ZipFile(good, "w") as z:
        z.writestr("d/a.txt", "A")
    assert (download.extract(good, tmp_path / "g") / "d" / "a.txt").read_text() == "A"
    bad = tmp_path / "b.zip"
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("../../escape.txt", "x")
    with pytest.raises(DataError, match=r"unsafe member '\.\./\.\./escape\.txt'"):
        download.extract(bad, tmp_path / "b")
    assert not (tmp_path / "b").exists()


def test_corrupt_archive_is_a_data_error(tmp_path):
    arc = tmp_path / "c.tar.gz"
    arc.write_bytes(_tar_gz({"a.txt": b"a" * 10000})[:60])
    with pytest.raises(DataError, match=r"cannot extract .*c\.tar\.gz"):
        download.extract(arc, tmp_path / "c")
    assert [p.name for p in tmp_path.iterdir()] == ["c.tar.gz"]


# ---------------------------------------------------------------- speech_commands

KEYWORDS = ["down", "go", "left", "no", "off", "on", "right", "stop", "up", "yes"]
OTHERS = ["bed", "cat", "dog"]


def _wav_bytes(x, rate=16000):
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "w.wav")
        write_wav(p, x, rate)
        return open(p, "rb").read()


def _speech_archive():
    """Each word: speaker a (train), b (validation list), c (testing list); distinct tones."""
    rng = np.random.default_rng(0)
    members, val, test = {}, [], []
    t = np.arange(8000) / 16000
    for wi, w in enumerate(KEYWORDS + OTHERS):
        for spk in "abc":
            x = 0.3 * np.sin(2 * np.pi * (200 + 150 * wi + 40 * "abc".index(spk)) * t)
            members[f"./{w}/{spk}1234_nohash_0.wav"] = _wav_bytes(x)
        val.append(f"{w}/b1234_nohash_0.wav")
        test.append(f"{w}/c1234_nohash_0.wav")
    for n in ("white_noise", "pink_noise"):
        members[f"./_background_noise_/{n}.wav"] = _wav_bytes(0.2 * rng.standard_normal(40000))
    members["./validation_list.txt"] = ("\n".join(val) + "\n").encode()
    members["./testing_list.txt"] = ("\n".join(test) + "\n").encode()
    members["./LICENSE"] = b"CC BY 4.0"
    return _tar_gz(members)


def test_speech_commands_end_to_end(server, tmp_path, monkeypatch):
    payload = _speech_archive()
    server.files["/sc/speech_commands_v0.02.tar.gz"] = payload
    cfg = dataclasses.replace(config.load().data, name="speech_commands", features="mfcc",
                              url=server.url + "/sc/speech_commands_v0.02.tar.gz",
                              sha256=hashlib.sha256(payload).hexdigest(),
                              cache_dir=str(tmp_path / "cache"))
    d = load_dataset(cfg, seed=0)
    assert d.labels == KEYWORDS + ["_silence_", "_unknown_"]
    assert d.input_shape == (49, 10, 1)
    for y in (d.y_train, d.y_val, d.y_test):
        # 10 keyword clips, ceil(0.1*10) = 1 silence, 1 unknown per split.
        assert np.bincount(y, minlength=12).tolist() == [1] * 12
    # The test split holds exactly the testing_list.txt clip of each keyword.
    root = tmp_path / "cache" / "speech_commands" / "speech_commands_v0.02"
    spec = spec_from_config(cfg)
    for i, lab in enumerate(d.y_test):
        if lab < 10:
            want = extract(read_wav(root / KEYWORDS[lab] / "c1234_nohash_0.wav", 16000), spec)
            assert np.array_equal(d.x_test[i, :, :, 0], want)
    unk = d.x_test[d.y_test == 11][0, :, :, 0]
    assert any(np.array_equal(unk, extract(read_wav(root / w / "c1234_nohash_0.wav"), spec)) for w in OTHERS)
    assert np.all(np.isfinite(d.x_train)) and d.meta["counts"]["test"]["_silence_"] == 1
    assert server.hits["/sc/speech_commands_v0.02.tar.gz"] == 1

    # Second load: archive and features come from the cache (no download, no DSP).
    def no_dsp(*a, **k):
        raise AssertionError("features recomputed")
    monkeypatch.setattr("tinyml.data.speech_commands.extract", no_dsp)
    again = load_dataset(cfg, seed=0)
    assert np.array_equal(again.x_train, d.x_train) and np.array_equal(again.y_val, d.y_val)
    assert server.hits["/sc/speech_commands_v0.02.tar.gz"] == 1


def test_speech_commands_from_path_and_errors(tmp_path):
    arc = tmp_path / "sc.tar.gz"
    arc.write_bytes(_speech_archive())
    root = download.extract(arc, tmp_path / "sc")
    base = dataclasses.replace(config.load().data, name="speech_commands", path=str(root),
                               cache_dir=str(tmp_path / "cache"))
    d = load_dataset(dataclasses.replace(base, keywords=["yes", "no"]), seed=1)
    assert d.labels == ["yes", "no", "_silence_", "_unknown_"]
    assert d.input_shape == (49, 40, 1)
    with pytest.raises(DataError, match=r"keyword folder\(s\) .*marvin not found"):
        load_dataset(dataclasses.replace(base, keywords=["yes", "marvin"]))
    (root / "yes" / "a1234_nohash_0.wav").write_bytes(b"RIFFbroken")
    with pytest.raises(DataError, match=r"cannot read WAV file .*yes/a1234_nohash_0\.wav"):
        load_dataset(dataclasses.replace(base, keywords=["yes", "no"]), seed=2)
    (root / "testing_list.txt").unlink()
    with pytest.raises(DataError, match=r"testing_list\.txt is missing"):
        load_dataset(base)


# ---------------------------------------------------------------- cifar10

NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def _batch(labels, tag):
    n = len(labels)
    data = np.zeros((n, 3072), np.uint8)
    for i, lab in enumerate(labels):
        data[i, :1024] = np.arange(1024) % 251           # red plane, row-major 32x32
        data[i, 1024:2048] = lab * 20                    # green = label
        data[i, 2048:] = tag                             # blue = which batch
    # The real files are Python 2 pickles: bytes keys, protocol 2.
    return pickle.dumps({b"batch_label": b"batch %d" % tag, b"labels": list(labels), b"data": data,
                         b"filenames": [b"img_%d.png" % i for i in range(n)]}, protocol=2)


def _cifar_archive():
    members = {f"cifar-10-batches-py/data_batch_{b}": _batch([(b + i) % 10 for i in range(10)], b)
               for b in range(1, 6)}
    members["cifar-10-batches-py/test_batch"] = _batch(list(range(10)) * 2, 99)
    members["cifar-10-batches-py/batches.meta"] = pickle.dumps(
        {b"label_names": [n.encode() for n in NAMES], b"num_cases_per_batch": 10, b"num_vis": 3072}, protocol=2)
    return _tar_gz(members)


def test_cifar10_end_to_end(server, tmp_path):
    payload = _cifar_archive()
    server.files["/c/cifar-10-python.tar.gz"] = payload
    cfg = dataclasses.replace(config.load().data, name="cifar10", val_split=0.2,
                              url=server.url + "/c/cifar-10-python.tar.gz",
                              sha256=hashlib.sha256(payload).hexdigest(),
                              cache_dir=str(tmp_path / "cache"))
    d = load_dataset(cfg, seed=0)
    assert d.labels == NAMES and d.input_shape == (32, 32, 3)
    assert (len(d.y_train), len(d.y_val), len(d.y_test)) == (40, 10, 20)
    assert np.bincount(d.y_test).tolist() == [2] * 10 and np.bincount(d.y_val).tolist() == [1] * 10
    x = np.concatenate([d.x_train, d.x_val])
    y = np.concatenate([d.y_train, d.y_val])
    px = np.round(x * 255).astype(int)
    assert np.all(px[:, 1, 2, 0] == 34)                          # red plane row 1, col 2
    assert np.all(px[:, 5, 5, 1] == y * 20)                       # label agrees with green plane
    assert sorted(np.unique(px[:, 0, 0, 2]).tolist()) == [1, 2, 3, 4, 5]
    assert np.all(np.round(d.x_test[..., 2] * 255) == 99)
    # Cached: a second load (another seed) does not download again.
    g = load_dataset(dataclasses.replace(cfg, grayscale=True, image_size=[16, 16]), seed=1)
    assert g.input_shape == (16, 16, 1)
    assert server.hits["/c/cifar-10-python.tar.gz"] == 1


def test_cifar10_refuses_code_in_pickles(tmp_path):
    arc = tmp_path / "c.tar.gz"
    arc.write_bytes(_cifar_archive())
    root = download.extract(arc, tmp_path / "c")

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned > " + str(tmp_path / "pwned"),))
    (root / "cifar-10-batches-py" / "data_batch_3").write_bytes(pickle.dumps({b"data": Evil()}, protocol=2))
    cfg = dataclasses.replace(config.load().data, name="cifar10", path=str(root))
    with pytest.raises(DataError, match=r"(?s)data_batch_3.*refusing to load"):
        load_dataset(cfg)
    assert not (tmp_path / "pwned").exists()
    (root / "cifar-10-batches-py" / "data_batch_3").write_bytes(b"\x80\x02}q\x00(")   # truncated
    with pytest.raises(DataError, match=r"cannot read CIFAR-10 batch .*data_batch_3"):
        load_dataset(cfg)
