"""Task generators (geometry, determinism) and readers for user-supplied event files."""

import numpy as np
import pytest

import neurosim as ns


def test_yinyang_geometry_balance_and_range():
    x, y = ns.train.yinyang(0, 3000)
    assert x.shape == (3000, 4) and x.dtype == np.float32
    np.testing.assert_allclose(x[:, 2:], 1.0 - x[:, :2], atol=1e-6)
    assert np.all(np.hypot(x[:, 0] - 0.5, x[:, 1] - 0.5) <= 0.5 + 1e-6)
    counts = np.bincount(y, minlength=3)
    # Classes drawn uniformly: binomial(3000, 1/3) -> std ~26.
    assert np.all(np.abs(counts - 1000) < 5 * 26), counts
    # Points in the eyes are dots; far up/down on the axis are yin (top) and yang (bottom).
    lab = ns.train._tasks._yinyang_class
    assert list(
        lab(np.array([0.25, 0.75, 0.5, 0.5]), np.array([0.5, 0.5, 0.95, 0.05]), 0.5, 0.1)
    ) == [2, 2, 0, 1]  # noqa: E501
    # Every sample carries the label its coordinates imply.
    np.testing.assert_array_equal(lab(x[:, 0], x[:, 1], 0.5, 0.1), y)
    # Yin and yang have equal areas (point symmetry): uniform rejection sampling confirms it.
    rng = np.random.default_rng(1)
    p = rng.uniform(0, 1, (200000, 2))
    p = p[np.hypot(p[:, 0] - 0.5, p[:, 1] - 0.5) <= 0.5]
    frac = np.bincount(lab(p[:, 0], p[:, 1], 0.5, 0.1), minlength=3) / len(p)
    np.testing.assert_allclose(frac[2], 2 * 0.1**2 / 0.5**2, atol=0.005)
    np.testing.assert_allclose(frac[0], frac[1], atol=0.01)
    x2, y2 = ns.train.yinyang(0, 3000)
    np.testing.assert_array_equal(x, x2)


def test_randman_one_spike_per_unit_seeded_and_classes_differ():
    x, y = ns.train.randman(3, n_classes=4, n_units=12, n_steps=50, samples_per_class=40)
    assert x.shape == (160, 50, 12) and x.dtype == np.uint8
    np.testing.assert_array_equal(x.sum(1), 1)  # exactly one spike per unit and sample
    np.testing.assert_array_equal(np.bincount(y), [40] * 4)
    x2, y2 = ns.train.randman(3, n_classes=4, n_units=12, n_steps=50, samples_per_class=40)
    np.testing.assert_array_equal(x, x2)
    # Spike times of the same class lie on one smooth 1-d curve; classes differ in timing.
    t = x.argmax(1).astype(float)  # (N, units)
    means = np.stack([t[y == c].mean(0) for c in range(4)])
    assert np.min(np.abs(means[:, None] - means[None]).sum(-1)[~np.eye(4, dtype=bool)]) > 10
    with pytest.raises(ValueError, match="alpha must be > 0"):
        ns.train.randman(0, alpha=0.0)


def test_digits_split_and_scale():
    pytest.importorskip("sklearn")
    x_tr, y_tr, x_te, y_te = ns.train.digits(0, test_fraction=0.2)
    assert x_tr.shape[1] == 64 and len(x_tr) + len(x_te) == 1797
    assert 0.0 <= x_tr.min() and x_tr.max() <= 1.0
    assert set(np.unique(y_te)) == set(range(10))


def test_store_recall_labels_match_the_stored_bit():
    x, lab, mask = ns.train.store_recall(
        0, 64, n_periods=5, period_steps=40, channel_size=5, rate_hz=500.0, noise_hz=0.0
    )
    assert x.shape == (64, 200, 20) and mask.shape == (64, 200)
    np.testing.assert_array_equal(mask.sum(1), 40)  # exactly one recall period
    for i in range(64):
        store = np.flatnonzero(x[i, :, 0:5].sum(1))
        recall = np.flatnonzero(mask[i])
        assert store.max() < recall.min()  # recall comes after store
        s0 = (store.min() // 40) * 40
        seg = x[i, s0 : s0 + 40]
        shown = int(seg[:, 15:20].sum() > seg[:, 10:15].sum())
        assert shown == lab[i]


def test_load_shd_from_a_tiny_synthetic_file(tmp_path):
    h5py = pytest.importorskip("h5py")
    path = tmp_path / "tiny_shd.h5"
    times = [np.array([0.0005, 0.0012, 0.0013, 0.5], np.float32), np.array([0.002], np.float32)]
    units = [np.array([3, 699, 699, 5], np.uint16), np.array([0], np.uint16)]
    with h5py.File(path, "w") as f:
        ft, fu = h5py.vlen_dtype(np.float32), h5py.vlen_dtype(np.uint16)
        f.create_dataset("spikes/times", (2,), dtype=ft)[:] = times
        f.create_dataset("spikes/units", (2,), dtype=fu)[:] = units
        f.create_dataset("labels", data=np.array([7, 19], np.uint16))
    x, y = ns.train.load_shd(path, n_steps=10, dt=1.0)
    assert x.shape == (2, 10, 700)
    np.testing.assert_array_equal(y, [7, 19])
    expected = np.zeros((2, 10, 700), np.uint8)
    expected[0, 0, 3] = 1
    expected[0, 1, 699] = 1  # two spikes in one bin, clipped to 1; the 500 ms one is dropped
    expected[1, 2, 0] = 1
    np.testing.assert_array_equal(x, expected)
    counts, _ = ns.train.load_shd(path, n_steps=10, dt=1.0, clip=False)
    assert counts[0, 1, 699] == 2
    bad = tmp_path / "bad.h5"
    with h5py.File(bad, "w") as f:
        f.create_dataset("labels", data=np.zeros(1))
    with pytest.raises(ValueError, match="SHD/SSC"):
        ns.train.load_shd(bad)


def _nmnist_bytes(events):
    """Encode (x, y, p, t_us) per the N-MNIST spec (Orchard et al. 2015), independently."""
    out = bytearray()
    for x, y, p, t in events:
        out += bytes([x, y, (p << 7) | ((t >> 16) & 0x7F), (t >> 8) & 0xFF, t & 0xFF])
    return bytes(out)


def test_nmnist_reader_and_directory_loader(tmp_path):
    ev = [(0, 0, 0, 10), (33, 2, 1, 2500), (5, 7, 1, (1 << 23) - 1), (1, 1, 0, 70000)]
    for label, evs in ((3, ev), (8, ev[:1])):
        d = tmp_path / str(label)
        d.mkdir()
        (d / "00001.bin").write_bytes(_nmnist_bytes(evs))
    got = ns.train.read_nmnist(tmp_path / "3" / "00001.bin")
    np.testing.assert_array_equal(got["x"], [0, 33, 5, 1])
    np.testing.assert_array_equal(got["y"], [0, 2, 7, 1])
    np.testing.assert_array_equal(got["p"], [0, 1, 1, 0])
    np.testing.assert_array_equal(got["t_us"], [10, 2500, (1 << 23) - 1, 70000])
    frames = ns.train.events_to_frames(got, n_steps=30, dt=3.0)
    assert frames.shape == (30, 2 * 34 * 34) and frames.sum() == 3  # 3 events before 90 ms
    assert frames[0, 0] == 1 and frames[0, 34 * 34 + 33 * 34 + 2] == 1 and frames[23, 35] == 1
    x, y = ns.train.load_nmnist(tmp_path, n_steps=30, dt=3.0)
    assert x.shape == (2, 30, 2312)
    np.testing.assert_array_equal(y, [3, 8])
    (tmp_path / "bad.bin").write_bytes(b"1234")
    with pytest.raises(ValueError, match="multiple of 5"):
        ns.train.read_nmnist(tmp_path / "bad.bin")
