"""Izhikevich (2003): published cell classes under the published step current; resonance."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurosim as ns
from neurosim.analysis import firing_features, firing_pattern
from neurosim.neurons import Izhikevich, SynapticDrive

DT = 0.1  # Izhikevich (2003) Fig. 2 uses 0.1 ms time resolution and forward Euler.


def _times(spikes, j):
    return (np.flatnonzero(np.asarray(spikes)[:, j]) + 1) * DT


@pytest.fixture(scope="module")
def fig2_run():
    # RS, IB, CH, FS, LTS, TC under a step of dc current I = 10 (Izhikevich 2003, Fig. 2),
    # plus a second TC cell hyperpolarised by I = -10 for 100 ms and then released.
    names = ["RS", "IB", "CH", "FS", "LTS", "TC", "TC"]
    step = np.array([10.0] * 6 + [-10.0])
    release = np.array([10.0] * 6 + [0.0])
    b = ns.NetworkBuilder()
    b.add_population("Z", Izhikevich.from_presets(names))
    b.add_input("Z", ns.inputs.StepCurrent([50.0, 150.0], np.stack([step, release])))
    net = b.build()
    _, out = ns.run(net, net.init_state(jax.random.key(0), DT), 5500, DT, key=jax.random.key(1))
    return {k: _times(out.spikes["Z"], j) for j, k in enumerate(names[:-1] + ["TC_rebound"])}


def test_excitatory_classes(fig2_run):
    # RS: tonic spikes with spike-frequency adaptation; IB: a burst then regular spikes;
    # CH: repetitive bursts of closely spaced spikes (Izhikevich 2003, Fig. 2 and its text).
    got = {k: firing_pattern(fig2_run[k], 50.0, 550.0) for k in ("RS", "IB", "CH")}
    assert got == {"RS": "adapting", "IB": "initial_burst", "CH": "bursting"}
    ch = firing_features(fig2_run["CH"], 50.0, 550.0)
    assert ch["n_bursts"] >= 5  # repetitive, at ~20-40 Hz burst rate


def test_inhibitory_classes(fig2_run):
    # FS: "periodic trains of action potentials with extremely high frequency practically
    # without any adaptation"; LTS: "high-frequency trains ... with a pronounced spike
    # frequency adaptation" (Izhikevich 2003). Rates against RS's (same current).
    rs, fs, lts = (firing_features(fig2_run[k], 50.0, 550.0) for k in ("RS", "FS", "LTS"))
    for f in (fs, lts):
        assert f["n_bursts"] == 0
    assert 1000.0 / fs["steady_isi"] > 100.0  # Hz
    assert fs["steady_isi"] < rs["steady_isi"] / 3.0
    assert fs["adaptation_ratio"] < rs["adaptation_ratio"]
    assert 1000.0 / lts["first_isi"] > 200.0
    assert lts["adaptation_ratio"] > rs["adaptation_ratio"]


def test_thalamocortical_two_modes(fig2_run):
    # TC: tonic firing when depolarised; a rebound burst after release from hyperpolarisation.
    assert firing_pattern(fig2_run["TC"], 50.0, 550.0) == "tonic"
    rebound = fig2_run["TC_rebound"]
    assert np.all(rebound > 150.0), "silent while hyperpolarised"
    assert len(rebound) >= 2 and rebound[-1] < 200.0, "a short rebound burst, then silence"


def test_resonator_rings_at_linearised_frequency():
    # RZ (a = 0.1, b = 0.26): the rest state v* solves 0.04 v^2 + (5 - b) v + 140 = 0 and the
    # linearisation [[0.08 v* + 5, -1], [a b, -a]] has complex eigenvalues: a small kick rings
    # with period 2 pi / Im(lambda) and decays as exp(Re(lambda) t). Float64, kick 0.05 mV
    # (nonlinear corrections ~ 0.04 x / |lambda| ~ 1 %), RK4 (error per period ~ (|lambda| dt)^4
    # / 120 * period / dt, negligible; forward Euler would damp too little by ~ omega^2 dt / 2).
    a, bb = 0.1, 0.26
    v_rest = (-(5 - bb) - np.sqrt((5 - bb) ** 2 - 4 * 0.04 * 140)) / (2 * 0.04)
    lam = np.linalg.eigvals(np.array([[0.08 * v_rest + 5, -1.0], [a * bb, -a]]))
    omega, sigma = abs(lam[0].imag), lam[0].real
    with jax.enable_x64(True):
        m = Izhikevich(
            1, a=a, b=bb, v_init=v_rest + 0.05, u_init=bb * v_rest, integrator=ns.integrators.RK4()
        )
        s = m.init(jax.random.key(0), DT)
        z = SynapticDrive.zeros(1)

        def body(st, _):
            st, spk = m.step(st, z, 0, DT, None)
            return st, (st["v"][0], spk[0])

        _, (v, spk) = jax.lax.scan(body, s, None, length=1200)
    assert np.asarray(spk).sum() == 0
    x = np.asarray(v) - v_rest
    t = DT * np.arange(1, len(x) + 1)
    up = np.flatnonzero((x[:-1] < 0) & (x[1:] >= 0))
    t_up = t[up] - x[up] * DT / (x[up + 1] - x[up])  # linear interpolation
    period = np.diff(t_up)[:2]
    np.testing.assert_allclose(period, 2 * np.pi / omega, rtol=0.02)
    peaks = [x[i : i + int(2 * np.pi / omega / DT)].max() for i in up[:2]]
    np.testing.assert_allclose(peaks[1] / peaks[0], np.exp(sigma * 2 * np.pi / omega), rtol=0.05)


def test_input_scale_and_gradient():
    # c_m scales pA into the model's mV/ms: I = 100 pA with c_m = 10 pF equals I = 10.
    m1 = Izhikevich(1, i_e=10.0)
    m2 = Izhikevich(1, i_e=100.0, c_m=10.0)
    z = SynapticDrive.zeros(1)
    s1, _ = m1.step(m1.init(jax.random.key(0), DT), z, 0, DT, None)
    s2, _ = m2.step(m2.init(jax.random.key(0), DT), z, 0, DT, None)
    np.testing.assert_allclose(s1["v"], s2["v"], rtol=1e-6)

    def count(d):
        m = Izhikevich(1, d=d, i_e=10.0)
        st = m.init(jax.random.key(0), DT)

        def body(st, _):
            st, spk = m.step(st, z, 0, DT, None)
            return st, spk[0]

        return jnp.sum(jax.lax.scan(body, st, None, length=300)[1])

    n, g = jax.value_and_grad(count)(jnp.asarray(8.0))
    assert float(n) >= 2 and np.isfinite(float(g)) and float(g) != 0.0


def test_bad_parameters_raise():
    with pytest.raises(ValueError, match="c_m"):
        Izhikevich(2, c_m=0.0)
    with pytest.raises(ValueError, match="v_peak"):
        Izhikevich(2, c=40.0)
    with pytest.raises(ValueError, match="unknown Izhikevich presets"):
        Izhikevich.from_presets(["XX"])
