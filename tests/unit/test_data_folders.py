"""images / wav / csv loaders on fixture files made here, and their bad-input errors."""
import dataclasses

import numpy as np
import pytest
from PIL import Image

from tinyml.config import schema as config
from tinyml.data import load_dataset
from tinyml.data.audio import read_wav, write_wav
from tinyml.core.errors import DataError


def _cfg(**kw):
    return dataclasses.replace(config.load().data, **kw)


def _listing(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


# ---------------------------------------------------------------- images

def _make_images(root, classes=("cat", "dog"), n=6, size=(10, 12)):
    rng = np.random.default_rng(0)
    for ci, c in enumerate(classes):
        (root / c).mkdir(parents=True)
        for i in range(n):
            px = np.full((size[0], size[1], 3), 40 + 150 * ci, np.uint8)
            px[0, 0] = rng.integers(0, 255, 3)
            ext = "png" if i % 2 else "jpg"
            Image.fromarray(px).save(root / c / f"{i}.{ext}")
    return root


def test_images_loads_resizes_and_labels(tmp_path):
    root = _make_images(tmp_path / "imgs")
    (root / "notes.txt").write_text("loose files are ignored")
    d = load_dataset(_cfg(name="images", path=str(root), image_size=[8, 6], test_split=0.5), seed=0)
    assert d.labels == ["cat", "dog"]
    assert d.input_shape == (8, 6, 3)
    assert len(d.y_train) + len(d.y_val) + len(d.y_test) == 12 and len(d.y_test) == 6
    assert d.x_train.dtype == np.float32 and 0.0 <= d.x_train.min() and d.x_train.max() <= 1.0
    # The class is recoverable from the pixels: dog images are brighter.
    x = np.concatenate([d.x_train, d.x_test])
    y = np.concatenate([d.y_train, d.y_test])
    assert np.all((x.mean(axis=(1, 2, 3)) > 0.5) == (y == 1))
    g = load_dataset(_cfg(name="images", path=str(root), grayscale=True), seed=0)
    assert g.input_shape == (10, 12, 1)


def test_images_missing_path(tmp_path):
    with pytest.raises(DataError, match=str(tmp_path / "nothere")):
        load_dataset(_cfg(name="images", path=str(tmp_path / "nothere")))
    with pytest.raises(DataError, match="needs a path"):
        load_dataset(_cfg(name="images"))


def test_images_empty_class_folder_is_named(tmp_path):
    root = _make_images(tmp_path / "imgs")
    (root / "bird").mkdir()
    (root / "bird" / "readme.txt").write_text("no images here")
    before = _listing(root)
    with pytest.raises(DataError, match=r"class folder .*bird has no images"):
        load_dataset(_cfg(name="images", path=str(root)))
    assert _listing(root) == before        # nothing written


def test_images_corrupt_file_is_named(tmp_path):
    root = _make_images(tmp_path / "imgs")
    bad = root / "dog" / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    with pytest.raises(DataError, match=r"cannot read image .*broken\.png"):
        load_dataset(_cfg(name="images", path=str(root), image_size=[8, 8]))
    # A truncated JPEG (valid header, data cut off) is caught too.
    good = (root / "cat" / "0.jpg").read_bytes()
    bad.unlink()
    (root / "cat" / "cut.jpg").write_bytes(good[: len(good) // 2])
    with pytest.raises(DataError, match=r"cut\.jpg"):
        load_dataset(_cfg(name="images", path=str(root), image_size=[8, 8]))


def test_images_needs_two_classes_and_same_sizes(tmp_path):
    root = _make_images(tmp_path / "one", classes=("only",))
    with pytest.raises(DataError, match="at least 2 are needed"):
        load_dataset(_cfg(name="images", path=str(root)))
    root = _make_images(tmp_path / "mixed")
    Image.fromarray(np.zeros((5, 5, 3), np.uint8)).save(root / "cat" / "small.png")
    with pytest.raises(DataError, match=r"(?s)small\.png is 5x5 \(height x width\) but .*0\.jpg is 10x12.*image_size"):
        load_dataset(_cfg(name="images", path=str(root)))


# ---------------------------------------------------------------- wav

def _tone(freq, seconds, rate=16000):
    t = np.arange(int(seconds * rate)) / rate
    return 0.5 * np.sin(2 * np.pi * freq * t)


def _make_wavs(root, rate=16000):
    for c, f in (("low", 300.0), ("high", 3000.0)):
        (root / c).mkdir(parents=True)
        for i in range(5):
            write_wav(root / c / f"{i}.wav", _tone(f * (1 + 0.02 * i), 0.6 + 0.2 * i, rate), rate)
    return root


def test_wav_loader_features_shape_and_content(tmp_path):
    root = _make_wavs(tmp_path / "wavs")
    d = load_dataset(_cfg(name="wav", path=str(root), test_split=0.4, features="logmel"), seed=1)
    assert d.labels == ["high", "low"]
    assert d.input_shape == (49, 40, 1)
    x = np.concatenate([d.x_train, d.x_val, d.x_test])
    y = np.concatenate([d.y_train, d.y_val, d.y_test])
    assert len(y) == 10 and np.all(np.isfinite(x))
    # Frame 5 is inside every clip: the loudest band is high for "high", low for "low".
    band = x[:, 5, :, 0].argmax(axis=1)
    assert np.all(band[y == 0] > 25) and np.all(band[y == 1] < 15)
    m = load_dataset(_cfg(name="wav", path=str(root), features="mfcc", n_mfcc=10), seed=1)
    assert m.input_shape == (49, 10, 1)


def test_wav_roundtrip_and_sample_rate_mismatch(tmp_path):
    p = tmp_path / "a.wav"
    write_wav(p, _tone(440, 0.1), 16000)
    assert np.allclose(read_wav(p, 16000), _tone(440, 0.1), atol=1 / 32767)
    write_wav(tmp_path / "b.wav", _tone(440, 0.1, 8000), 8000)
    with pytest.raises(DataError, match=r"b\.wav has sample rate 8000 Hz, expected 16000"):
        read_wav(tmp_path / "b.wav", 16000)
    root = _make_wavs(tmp_path / "wavs")
    write_wav(root / "low" / "odd.wav", _tone(300, 1.0, 8000), 8000)
    with pytest.raises(DataError, match=r"odd\.wav has sample rate 8000"):
        load_dataset(_cfg(name="wav", path=str(root)))


def test_wav_corrupt_file_is_named(tmp_path):
    root = _make_wavs(tmp_path / "wavs")
    (root / "high" / "junk.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunkjunkjunk")
    before = _listing(root)
    with pytest.raises(DataError, match=r"cannot read WAV file .*junk\.wav"):
        load_dataset(_cfg(name="wav", path=str(root)))
    assert _listing(root) == before


def test_wav_empty_class_folder_and_missing_path(tmp_path):
    root = _make_wavs(tmp_path / "wavs")
    (root / "silent").mkdir()
    with pytest.raises(DataError, match=r"silent has no WAV files"):
        load_dataset(_cfg(name="wav", path=str(root)))
    with pytest.raises(DataError, match="does not exist"):
        load_dataset(_cfg(name="wav", path=str(tmp_path / "gone")))


# ---------------------------------------------------------------- csv

def _write_csv(path, rows, header="ax,ay,az,label"):
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return path


def _sensor_rows(n_per_label=12):
    rows = []
    for lab, base in (("walk", 1.0), ("idle", 0.0), ("run", 5.0)):
        for i in range(n_per_label):
            rows.append(f"{base + 0.01 * i},{-base},{base * 2},{lab}")
    return rows


def test_csv_one_row_per_sample(tmp_path):
    f = _write_csv(tmp_path / "s.csv", _sensor_rows())
    d = load_dataset(_cfg(name="csv", path=str(f), test_split=0.25), seed=0)
    assert d.labels == ["idle", "run", "walk"]
    assert d.input_shape == (3,)
    x = np.concatenate([d.x_train, d.x_val, d.x_test])
    y = np.concatenate([d.y_train, d.y_val, d.y_test])
    assert len(y) == 36
    assert np.allclose(x[y == 1][:, 1], -5.0) and np.allclose(x[y == 0][:, 2], 0.0)


def test_csv_windows_shape_stride_and_dropped_rows(tmp_path):
    f = _write_csv(tmp_path / "s.csv", _sensor_rows(12))
    d = load_dataset(_cfg(name="csv", path=str(f), window=5, test_split=0.34), seed=0)
    # 12 rows per label -> 2 windows of 5 (2 rows dropped) per label, 3 labels.
    assert d.input_shape == (5, 3, 1)
    assert len(d.y_train) + len(d.y_val) + len(d.y_test) == 6
    assert d.meta["dropped_rows"] == 6
    x = np.concatenate([d.x_train, d.x_val, d.x_test])
    y = np.concatenate([d.y_train, d.y_val, d.y_test])
    # No window mixes labels: column ay is constant inside each window.
    assert np.all(x[:, :, 1, 0].std(axis=1) == 0) and np.all(x[y == 1][:, 0, 1, 0] == -5.0)
    o = load_dataset(_cfg(name="csv", path=str(f), window=4, stride=2, test_split=0.3), seed=0)
    assert len(o.y_train) + len(o.y_val) + len(o.y_test) == 3 * 5   # starts 0,2,4,6,8


def test_csv_folder_of_files_and_numeric_label_order(tmp_path):
    d = tmp_path / "logs"
    d.mkdir()
    _write_csv(d / "a.csv", [f"{i},0,0,10" for i in range(4)] + [f"{i},1,1,2" for i in range(4)])
    _write_csv(d / "b.csv", [f"{i},0,0,2" for i in range(4)] + [f"{i},1,1,10" for i in range(4)])
    ds = load_dataset(_cfg(name="csv", path=str(d), test_split=0.25), seed=0)
    assert ds.labels == ["2", "10"]


@pytest.mark.parametrize("rows,header,pattern", [
    (["1,2,3,walk", "1,oops,3,walk"], "ax,ay,az,label", r"s\.csv:3: column 'ay' value 'oops' is not a finite number"),
    (["1,2,3,walk", "1,2,walk"], "ax,ay,az,label", r"s\.csv:3: 3 fields, the header has 4"),
    (["1,2,3,walk"], "ax,ay,az,kind", r"s\.csv:1: no label column 'label'"),
    (["1,2,3,walk", "1,2,3,"], "ax,ay,az,label", r"s\.csv:3: empty label"),
    (["1,2,nan,walk"], "ax,ay,az,label", r"s\.csv:2: column 'az'"),
    ([], "ax,ay,az,label", r"s\.csv has a header but no data rows"),
    (["1,2,3,walk", "4,5,6,walk"], "ax,ay,az,label", r"only 1 class"),
])
def test_csv_bad_input_names_file_and_line(tmp_path, rows, header, pattern):
    f = _write_csv(tmp_path / "s.csv", rows, header)
    with pytest.raises(DataError, match=pattern):
        load_dataset(_cfg(name="csv", path=str(f)))


def test_csv_empty_file_and_mismatched_columns(tmp_path):
    (tmp_path / "e.csv").write_text("")
    with pytest.raises(DataError, match=r"e\.csv is empty"):
        load_dataset(_cfg(name="csv", path=str(tmp_path / "e.csv")))
    d = tmp_path / "many"
    d.mkdir()
    _write_csv(d / "a.csv", _sensor_rows(2))
    _write_csv(d / "b.csv", _sensor_rows(2), header="ax,ay,gz,label")
    with pytest.raises(DataError, match=r"b\.csv:1: columns"):
        load_dataset(_cfg(name="csv", path=str(d)))
    with pytest.raises(DataError, match="no sample of 50 rows"):
        load_dataset(_cfg(name="csv", path=str(d / "a.csv"), window=50))


def test_stdlib_wav_reader_matches_soundfile_and_stereo_is_averaged(tmp_path):
    import wave
    from tinyml.data.audio import _read_stdlib
    p = tmp_path / "m.wav"
    write_wav(p, _tone(440, 0.05), 16000)
    data, rate = _read_stdlib(p)
    assert rate == 16000 and np.allclose(data[:, 0], read_wav(p), atol=1e-12)
    left = (np.arange(100) * 100).astype("<i2")
    st = np.stack([left, -left // 2], axis=1)
    with wave.open(str(tmp_path / "s.wav"), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(st.tobytes())
    assert np.allclose(read_wav(tmp_path / "s.wav", 16000), (left - left // 2) / 2 / 32768.0)


def test_new_data_config_fields_validate(tmp_path):
    from tinyml.core.errors import ConfigError
    f = tmp_path / "c.toml"
    f.write_text('[data]\nname = "speech_commands"\nkeywords = ["yes", "no"]\nurl = "file:///x.tgz"\n'
                 'window = 4\nstride = 2\ncache_dir = "/tmp/ds"\n')
    c = config.load(f).data
    assert c.keywords == ["yes", "no"] and c.stride == 2 and c.cache_dir == "/tmp/ds"
    f.write_text('[data]\nkeywords = "yes"\n')
    with pytest.raises(ConfigError, match="keywords"):
        config.load(f)
    f.write_text('[data]\nwindow = -1\n')
    with pytest.raises(ConfigError, match="window = -1 must be 0 or more"):
        config.load(f)
