"""features.py: mel filterbank, log-mel, MFCC against known cases."""
import numpy as np
import pytest

from tinyml.data import features as F


def test_default_spec_matches_kws_layout():
    s = F.FeatureSpec()
    assert (s.clip_samples, s.frame_length, s.hop_length, s.n_fft) == (16000, 640, 320, 1024)
    assert s.shape == (49, 40)
    assert F.FeatureSpec(kind="mfcc", n_mfcc=10).shape == (49, 10)   # MLPerf Tiny KWS input


def test_hann_window_is_periodic():
    w = F.hann_window(8)
    assert w[0] == 0.0 and w[4] == pytest.approx(1.0)
    assert np.allclose(w[1:4], w[7:4:-1])


def test_filterbank_triangles_peak_at_their_centres():
    fb = F.mel_filterbank(40, 1024, 16000)
    assert fb.shape == (40, 513)
    assert fb.min() >= 0.0 and fb.max() <= 1.0 + 1e-12
    peaks = fb.argmax(axis=1)
    assert np.all(np.diff(peaks) >= 0)         # bands ascend in frequency
    centres = F.mel_to_hz(np.linspace(F.hz_to_mel(20), F.hz_to_mel(8000), 42))[1:-1]
    assert np.all(np.abs(peaks * 16000 / 1024 - centres) <= 16000 / 1024)
    assert np.allclose(F.mel_to_hz(F.hz_to_mel([100.0, 1000.0, 4000.0])), [100, 1000, 4000])


@pytest.mark.parametrize("freq", [300.0, 1000.0, 3000.0])
def test_pure_tone_lands_in_the_right_mel_band(freq):
    spec = F.FeatureSpec()
    t = np.arange(spec.clip_samples) / spec.sample_rate
    lm = F.extract(0.5 * np.sin(2 * np.pi * freq * t), spec)
    assert lm.shape == (49, 40) and lm.dtype == np.float32
    band = int(np.bincount(lm.argmax(axis=1)).argmax())
    fb = F.mel_filterbank(40, spec.n_fft, spec.sample_rate)
    # The winning band is one whose triangle covers the tone most.
    tone_bin = int(round(freq * spec.n_fft / spec.sample_rate))
    assert band == int(fb[:, tone_bin].argmax())
    assert np.all(lm.argmax(axis=1) == band)       # steady tone: same band in every frame


def test_tone_energy_matches_parseval():
    spec = F.FeatureSpec()
    t = np.arange(spec.clip_samples) / spec.sample_rate
    p = F.power_spectrum(np.sin(2 * np.pi * 1000 * t), spec)
    w = F.hann_window(spec.frame_length)
    # rfft power summed over the full spectrum (both halves) = n_fft * sum(frame^2).
    frame = np.sin(2 * np.pi * 1000 * t[:spec.frame_length]) * w
    full = 2 * p[0].sum() - p[0][0] - p[0][-1]
    assert full == pytest.approx(spec.n_fft * np.sum(frame ** 2), rel=1e-9)


def test_mfcc_of_silence_is_finite_and_constant():
    spec = F.FeatureSpec(kind="mfcc", n_mfcc=10)
    m = F.extract(np.zeros(100), spec)         # short input is zero-padded to 1 s
    assert m.shape == (49, 10) and np.all(np.isfinite(m))
    # log(1e-6) in every band -> only the DC DCT coefficient is non-zero.
    assert m[0, 0] == pytest.approx(np.log(1e-6) * np.sqrt(40), rel=1e-5)
    assert np.allclose(m[:, 1:], 0.0, atol=1e-4)


def test_dct_matrix_is_orthonormal_and_long_input_is_trimmed():
    d = F.dct2_matrix(40, 40)
    assert np.allclose(d @ d.T, np.eye(40), atol=1e-12)
    spec = F.FeatureSpec()
    x = np.random.default_rng(0).standard_normal(spec.clip_samples)
    longer = np.concatenate([x, np.ones(5000)])
    assert np.array_equal(F.extract(x, spec), F.extract(longer, spec))
    batch = F.extract_batch([x, x[:8000]], spec)
    assert batch.shape == (2, 49, 40, 1)
