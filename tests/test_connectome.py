"""ns.connectome: files, orientation, delays, validation, tvb-data, both builders, FC."""

import bz2
import importlib.util
import zipfile

import numpy as np
import pytest

import neurosim as ns
from neurosim.connectome import Connectome, apportion

HAVE_TVB_DATA = importlib.util.find_spec("tvb_data") is not None


def _synthetic(n=6, seed=0):
    rng = np.random.default_rng(seed)
    w = rng.random((n, n)) * (rng.random((n, n)) < 0.6)  # directed, some zeros
    pos = rng.normal(0.0, 40.0, (n, 3))
    lengths = np.linalg.norm(pos[:, None] - pos[None], axis=-1) * 1.3
    labels = [f"{'r' if k < n // 2 else 'l'}A{k}" for k in range(n)]
    return w, lengths, pos, labels


# -- files --------------------------------------------------------------------------------
def test_tvb_layout_round_trip_directory_and_zip(tmp_path):
    w, lengths, pos, labels = _synthetic()
    con = Connectome(w, lengths, labels=labels, centres=pos)
    con.save(tmp_path / "dir")
    back = Connectome.from_zip(tmp_path / "dir")
    # A zip in TVB's layout: files inside a sub-folder, one of them bz2-compressed.
    zpath = tmp_path / "c.zip"
    with zipfile.ZipFile(zpath, "w") as z:
        z.write(tmp_path / "dir" / "weights.txt", "conn/weights.txt")
        z.writestr("conn/tract_lengths.txt.bz2",
                   bz2.compress((tmp_path / "dir" / "tract_lengths.txt").read_bytes()))  # fmt: skip
        z.write(tmp_path / "dir" / "centres.txt", "conn/centres.txt")
        z.writestr("conn/info.txt", "weights_unit = 'au'\n")
    zipped = Connectome.from_zip(zpath)
    for c in (back, zipped):
        np.testing.assert_array_equal(c.weights, w)  # %.17g text round-trips float64 exactly
        np.testing.assert_array_equal(c.tract_lengths, lengths)
        np.testing.assert_array_equal(c.centres, pos)
        assert c.labels == tuple(labels)
        np.testing.assert_array_equal(c.hemispheres, [lab[0] == "r" for lab in labels])


def test_plain_csv_and_whitespace_pair(tmp_path):
    w, lengths, pos, labels = _synthetic(5, seed=1)
    np.savetxt(tmp_path / "w.csv", w, delimiter=",", fmt="%.17g")
    np.savetxt(tmp_path / "l.txt", lengths, fmt="%.17g")
    (tmp_path / "c.csv").write_text(
        "\n".join(
            f"{lab},{x:.17g},{y:.17g},{z:.17g}" for lab, (x, y, z) in zip(labels, pos, strict=True)
        )
    )
    con = Connectome.from_files(tmp_path / "w.csv", tmp_path / "l.txt", tmp_path / "c.csv")
    np.testing.assert_array_equal(con.weights, w)
    np.testing.assert_array_equal(con.tract_lengths, lengths)
    np.testing.assert_array_equal(con.centres, pos)
    assert con.labels == tuple(labels)
    # Without lengths: Euclidean distances between the centres (TVB's fallback).
    only_w = Connectome.from_files(tmp_path / "w.csv", centres=tmp_path / "c.csv")
    d = np.sqrt(((pos[:, None] - pos[None]) ** 2).sum(-1))
    np.testing.assert_allclose(only_w.tract_lengths, d, rtol=1e-15, atol=0)


def test_file_errors(tmp_path):
    (tmp_path / "bad.txt").write_text("1 2\n3\n")
    with pytest.raises(ValueError, match="equal-length rows"):
        Connectome.from_files(tmp_path / "bad.txt", tmp_path / "bad.txt")
    with pytest.raises(ValueError, match="no such file"):
        Connectome.from_files(tmp_path / "missing.txt")
    (tmp_path / "d").mkdir()
    np.savetxt(tmp_path / "d" / "weights.txt", np.eye(2))
    with pytest.raises(ValueError, match="tract_lengths"):
        Connectome.from_zip(tmp_path / "d")


# -- orientation and delays -----------------------------------------------------------------
def test_orientation_rows_are_targets():
    # One connection, from region 0 to region 2: W[2, 0].
    w = np.zeros((3, 3))
    w[2, 0] = 1.0
    con = Connectome(w, tract_lengths=np.full((3, 3), 30.0))
    net = ns.connectome.rate_network(con, G=1.0, velocity=None, normalize=None)
    c = np.asarray(net.coupling(np.array([1.0, 0.0, 0.0])))
    np.testing.assert_array_equal(c, [0.0, 0.0, 1.0])  # only region 2 receives region 0's output


@pytest.mark.skipif(not HAVE_TVB_DATA, reason="tvb-data not installed (pip install neurosim[data])")
def test_tvb_files_are_not_transposed():
    import importlib.resources

    res = importlib.resources.files("tvb_data") / "connectivity" / "connectivity_76.zip"
    with res.open("rb") as fh, zipfile.ZipFile(fh) as z:
        raw = np.loadtxt(z.open("weights.txt"))
    con = Connectome.from_tvb_data(76)
    np.testing.assert_array_equal(con.weights, raw)
    assert not con.is_symmetric  # directed: the orientation matters


def test_delays_are_length_over_velocity():
    _, lengths, pos, _ = _synthetic()
    con = Connectome(np.ones((6, 6)), lengths)
    for v in (1.0, 3.0, 7.5):
        np.testing.assert_array_equal(con.delays(v), lengths / v)  # mm / (mm/ms) = ms
    for bad in (0.0, -1.0, np.inf, np.nan):
        with pytest.raises(ValueError, match="velocity"):
            con.delays(bad)


# -- validation -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(weights=np.ones((2, 3)), tract_lengths=np.ones((2, 3))), "weights must be a square"),
        (dict(weights=[[0, -1.0], [0, 0]], tract_lengths=np.ones((2, 2))), "weights must be >= 0"),
        (dict(weights=[[0, np.nan], [0, 0]], tract_lengths=np.ones((2, 2))), "weights must be fin"),
        (dict(weights=np.ones((2, 2)), tract_lengths=np.ones((3, 3))), "tract_lengths has shape"),
        (dict(weights=np.ones((2, 2)), tract_lengths=[[0, -5.0], [1, 0]]), "tract_lengths must be"),
        (dict(weights=np.ones((2, 2))), "tract_lengths is None and no centres"),
        (dict(weights=np.ones((2, 2)), tract_lengths=np.ones((2, 2)), labels=["a"]), "labels has"),
        (dict(weights=np.ones((2, 2)), tract_lengths=np.ones((2, 2)), labels=["a", "a"]), "unique"),
        (dict(weights=np.ones((2, 2)), centres=np.ones((2, 2))), "centres must have shape"),
        (dict(weights=np.ones((2, 2)), tract_lengths=np.ones((2, 2)), hemispheres=[1, 0]),
         "hemispheres must be a boolean"),
    ],
)  # fmt: skip
def test_validation_errors_name_the_field(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Connectome(**kwargs)


def test_normalize_subset_and_self_connections():
    w, lengths, pos, labels = _synthetic(seed=3)
    con = Connectome(w, lengths, labels=labels, centres=pos)
    np.testing.assert_allclose(con.normalized("max").weights, w / w.max(), rtol=0, atol=0)
    rs = con.normalized("row_sum").weights.sum(axis=1)
    np.testing.assert_allclose(rs[w.sum(1) > 0], 1.0, rtol=1e-14)
    with pytest.raises(ValueError, match="mode must be one of"):
        con.normalized("l2")
    assert np.all(np.diag(con.without_self_connections().weights) == 0)
    sub = con.subset([labels[4], 1])
    np.testing.assert_array_equal(sub.weights, w[np.ix_([4, 1], [4, 1])])
    np.testing.assert_array_equal(sub.tract_lengths, lengths[np.ix_([4, 1], [4, 1])])
    assert sub.labels == (labels[4], labels[1])
    with pytest.raises(ValueError, match="unknown region label"):
        con.subset(["nope"])
    assert "6 regions" in con.summary()


# -- tvb-data -------------------------------------------------------------------------------
@pytest.mark.skipif(not HAVE_TVB_DATA, reason="tvb-data not installed (pip install neurosim[data])")
def test_tvb_data_76():
    con = Connectome.from_tvb_data(76)
    assert con.n == 76
    assert con.weights.shape == con.tract_lengths.shape == (76, 76)
    assert con.centres.shape == (76, 3)
    np.testing.assert_array_equal(con.tract_lengths, con.tract_lengths.T)
    assert len(set(con.labels)) == 76 and con.labels[0] == "rA1"
    assert con.hemispheres.sum() == 38 and con.hemispheres[0]  # labels r... / l...
    with pytest.raises(ValueError, match="n_regions must be one of"):
        Connectome.from_tvb_data(77)


def test_tvb_data_missing_says_how_to_install(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "tvb_data" else real(name)
    )
    with pytest.raises(ImportError, match=r"pip install neurosim\[data\]"):
        Connectome.from_tvb_data(76)


# -- builder (a) ----------------------------------------------------------------------------
def test_rate_network_weights_delays_and_model():
    w, lengths, pos, labels = _synthetic(seed=4)
    con = Connectome(w, lengths, labels=labels)
    net = ns.connectome.rate_network(con, G=0.7, velocity=2.0, normalize="max")
    expect = w.copy()
    np.fill_diagonal(expect, 0.0)
    expect = expect / expect.max()
    assert isinstance(net.model, ns.rates.ReducedWongWangEI) and net.model.n == 6
    np.testing.assert_allclose(np.asarray(net.coupling.weights), expect, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(net.coupling.delays), lengths / 2.0, rtol=1e-6)
    assert float(net.coupling.G) == pytest.approx(0.7)
    assert isinstance(ns.connectome.rate_network(con, ns.rates.ReducedWongWang).model,
                      ns.rates.ReducedWongWang)  # fmt: skip
    with pytest.raises(ValueError, match="model has n=3"):
        ns.connectome.rate_network(con, ns.rates.ReducedWongWangEI(3))


# -- builder (b) ----------------------------------------------------------------------------
def _synapses(conn):
    indptr = np.asarray(conn.indptr)
    pre = np.repeat(np.arange(conn.n_pre), np.diff(indptr))
    post = np.asarray(conn.indices)[: conn.nnz]
    return pre, post


def test_dtb_network_structure():
    w, lengths, pos, labels = _synthetic(4, seed=5)
    w[1, :] = 0.0  # region 1 has no long-range inputs
    con = Connectome(w, lengths, labels=labels)
    sizes = np.array([20, 25, 20, 30])
    k_e, k_i, k_ext, v = 6, 2, 5, 2.5
    brain = ns.connectome.dtb_network(con, neurons_per_region=sizes, k_e=k_e, k_i=k_i,
                                      k_ext=k_ext, velocity=v)  # fmt: skip
    lay = brain.layout
    np.testing.assert_array_equal(lay.n_e, np.rint(0.8 * sizes))
    assert lay.n == sizes.sum() == brain.network.populations[0].n
    region, exc = lay.region_of, lay.is_excitatory
    projs = {p.name: p for p in brain.network.projections}
    # Local: block-diagonal, exact in-degrees from distinct sources, no autapses.
    for name, k, src_exc in (("local_E", k_e, True), ("local_I", k_i, False)):
        pre, post = _synapses(projs[name].conn)
        assert np.all(region[pre] == region[post]) and np.all(exc[pre] == src_exc)
        assert np.all(pre != post)
        np.testing.assert_array_equal(np.bincount(post, minlength=lay.n), k)
        assert len(set(zip(pre.tolist(), post.tolist(), strict=True))) == pre.size
    # Long range: E -> E across regions; each E neuron of a region with inputs gets k_ext.
    p = projs["long_range"]
    pre, post = _synapses(p.conn)
    assert np.all(exc[pre] & exc[post]) and np.all(region[pre] != region[post])
    indeg = np.bincount(post, minlength=lay.n)
    has_input = (w * (1 - np.eye(4))).sum(1) > 0
    np.testing.assert_array_equal(indeg[exc], np.where(has_input[region[exc]], k_ext, 0))
    counts = np.zeros((4, 4), int)
    np.add.at(counts, (region[post], region[pre]), 1)
    np.testing.assert_array_equal(counts, brain.long_range_counts)
    off = w * (1 - np.eye(4))
    for i in range(4):
        total = lay.n_e[i] * k_ext if has_input[i] else 0
        assert counts[i].sum() == total
        exact = total * off[i] / off[i].sum() if has_input[i] else np.zeros(4)
        assert np.all(np.abs(counts[i] - exact) < 1.0)  # largest-remainder rounding
    # Per-synapse delays in the CSR's order: tract length / velocity of that region pair.
    np.testing.assert_allclose(
        np.asarray(p.synapse_delays), lengths[region[post], region[pre]] / v, rtol=1e-6
    )
    assert p.max_delay == pytest.approx(float(np.max(lengths[region[post], region[pre]] / v)))
    assert [g for g, *_ in brain.network.populations[0].groups] == labels


def test_dtb_network_validation():
    con = Connectome(np.ones((2, 2)), np.ones((2, 2)))
    with pytest.raises(ValueError, match="k_e=10"):
        ns.connectome.dtb_network(con, neurons_per_region=10, k_e=10, k_i=1, k_ext=1)
    with pytest.raises(ValueError, match="neurons_per_region must be"):
        ns.connectome.dtb_network(con, neurons_per_region=[10, 10, 10])
    with pytest.raises(ValueError, match="e_fraction"):
        ns.connectome.dtb_network(con, neurons_per_region=10, e_fraction=1.0)


def test_apportion_closed_form():
    rng = np.random.default_rng(7)
    for total in (0, 1, 17, 1000):
        w = rng.random(9) * (rng.random(9) < 0.7)
        s = apportion(total, w)
        assert s.sum() == (total if w.sum() > 0 else 0)
        assert np.all(np.abs(s - total * w / w.sum()) < 1.0)
    np.testing.assert_array_equal(apportion(3, [1.0, 1.0, 1.0, 1.0]), [1, 1, 1, 0])  # ties: low


@pytest.mark.slow
def test_dtb_network_runs_and_region_rates():
    import jax

    con = Connectome(np.array([[0, 1.0], [1.0, 0]]), np.full((2, 2), 10.0))
    brain = ns.connectome.dtb_network(con, neurons_per_region=20, k_e=4, k_i=1, k_ext=3)
    res = ns.simulate(brain.network, 20.0, 0.1, key=jax.random.key(0), progress=False)
    t, r = brain.layout.region_rates(res, bin_ms=5.0)
    assert t.shape == (4,) and r.shape == (4, 2)
    # The binned rates account for every E spike: sum(rate * n_e * bin) = spike count.
    exc = brain.layout.is_excitatory[res.spike_indices]
    assert np.sum(r * brain.layout.n_e[None] * 5e-3) == pytest.approx(exc.sum())


# -- functional connectivity ----------------------------------------------------------------
def test_fc_closed_forms():
    rng = np.random.default_rng(0)
    T, n = 4000, 8
    x = rng.standard_normal((T, 1))
    same = np.asarray(ns.analysis.functional_connectivity(np.hstack([x, 2 * x + 1, -x])))
    np.testing.assert_allclose(same, [[1, 1, -1], [1, 1, -1], [-1, -1, 1]], atol=1e-5)
    fc = np.asarray(ns.analysis.functional_connectivity(rng.standard_normal((T, n))))
    off = fc[~np.eye(n, dtype=bool)]
    # Independent signals: r ~ N(0, 1/T); 5 standard deviations over the 28 pairs.
    assert np.max(np.abs(off)) < 5.0 / np.sqrt(T)
    # FC-SC correlation over the upper triangle equals numpy's Pearson on those entries.
    sc = rng.random((n, n))
    iu = np.triu_indices(n, 1)
    ref = np.corrcoef(fc[iu], sc[iu])[0, 1]
    assert float(ns.analysis.fc_similarity(fc, sc)) == pytest.approx(ref, abs=1e-5)
    assert float(ns.analysis.fc_similarity(3.0 * sc + 1.0, sc)) == pytest.approx(1.0, abs=1e-6)


@pytest.mark.slow
def test_viz_figures(tmp_path):
    w, lengths, pos, labels = _synthetic()
    con = Connectome(w, lengths, labels=labels, centres=pos, hemispheres=np.arange(6) < 3)
    ns.viz.connectome(con, tmp_path / "c.png")
    fc = np.corrcoef(np.random.default_rng(0).standard_normal((6, 50)))
    ns.viz.functional_connectivity(fc, tmp_path / "fc.png", labels=labels, reference=w)
    assert (tmp_path / "c.png").stat().st_size > 0 and (tmp_path / "fc.png").stat().st_size > 0
