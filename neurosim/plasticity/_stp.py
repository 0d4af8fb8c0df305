"""Tsodyks–Markram short-term plasticity (depression and facilitation)."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from .._validate import as_float_array, check, check_nonnegative, check_positive
from ..network import AbstractProjectionDynamics, Transmission
from ..ops import CSR, FFI_DTYPES, event_matvec, ffi_available, stp_deliver_ffi

__all__ = ["TsodyksMarkram", "tsodyks_markram_train", "tsodyks_markram_steady_state"]

_MAX_ELAPSED = 2**30  # steps; the elapsed-time counters saturate here (exp(-gap/tau) ~ 0)


def _per_pre(x, n: int, name: str):
    if x.ndim == 0 or x.shape == (n,):
        return jnp.broadcast_to(x, (n,))
    raise ValueError(f"{name} must be a scalar or have shape ({n},) (one per presynaptic neuron)")


class TsodyksMarkram(AbstractProjectionDynamics):
    r"""Tsodyks–Markram short-term depression and facilitation, one state per presynaptic neuron.

    Between spikes (Tsodyks, Pawelzik & Markram 1998, *Neural Comput.* 10:821):

    .. math::
        \frac{du}{dt} = -\frac{u}{\tau_{facil}}, \qquad
        \frac{dx}{dt} = \frac{1 - x}{\tau_{rec}}

    At a presynaptic spike, in this order: :math:`u \leftarrow u + U (1 - u)`; the spike is
    delivered with value :math:`u x` (the synapse transmits ``w * u * x``, so ``w`` plays the
    role of the absolute efficacy :math:`A_{SE}`); :math:`x \leftarrow x - u x`. Starting from
    rest (``u = 0``, ``x = 1``) this gives Markram et al.'s (1998, *PNAS* 95:5323) recursion
    for a train with inter-spike intervals :math:`\Delta_n`:

    .. math::
        PSC_n = A\,u_n R_n,\quad u_1 = U,\ R_1 = 1,\quad
        u_{n+1} = U + u_n (1 - U) e^{-\Delta_n/\tau_{facil}},\quad
        R_{n+1} = 1 + (R_n (1 - u_n) - 1) e^{-\Delta_n/\tau_{rec}}

    (see :func:`tsodyks_markram_train`). ``tau_facil = 0`` gives pure depression (``u = U`` at
    every spike). The state holds ``u`` and ``x`` just after each neuron's last spike and the
    steps elapsed since; the relaxation over a gap is evaluated exactly in one step
    (``exp(-gap/tau)``, event-driven as in NEST's ``tsodyks2_synapse``), so the result
    depends on ``dt`` only through spike-time rounding and float32 stays accurate over long
    gaps. Spikes arrive after the projection's delay. The parameters are the same for all
    synapses of a presynaptic neuron, so the state is O(n_pre), not O(synapses).

    Args:
        U: utilisation increment per spike (dimensionless, in (0, 1]); scalar or one per
            presynaptic neuron.
        tau_rec: recovery (depression) time constant (ms), > 0.
        tau_facil: facilitation time constant (ms), >= 0 (0: no facilitation).

    Example:
        >>> import jax, neurosim as ns
        >>> b = ns.NetworkBuilder(key=jax.random.key(0))
        >>> b.add_population("src", ns.neurons.PoissonSource(10, rate=20.0))
        'src'
        >>> b.add_population("post", ns.neurons.LIF(5))
        'post'
        >>> b.connect("src", "post", ns.connectivity.AllToAll(), weight=50.0,
        ...           synapse=ns.synapses.Exponential(3.0),
        ...           dynamics=ns.plasticity.TsodyksMarkram(U=0.5, tau_rec=800.0))
        'src->post'
    """

    U: jax.Array = eqx.field(converter=as_float_array)
    tau_rec: jax.Array = eqx.field(converter=as_float_array)
    tau_facil: jax.Array = eqx.field(converter=as_float_array, default=0.0)

    def __check_init__(self):
        check(lambda a: np.isfinite(a) & (a > 0) & (a <= 1), "U", self.U, "must lie in (0, 1]")
        check_positive("tau_rec", self.tau_rec, "ms")
        check_nonnegative("tau_facil", self.tau_facil, "ms")
        for name, v in (("U", self.U), ("tau_rec", self.tau_rec), ("tau_facil", self.tau_facil)):
            if v.ndim > 1:
                raise ValueError(f"{name} must be a scalar or 1-D (per presynaptic neuron)")

    def init(self, key, dt) -> dict:
        n = self._bound_conn().n_pre
        for name, v in (("U", self.U), ("tau_rec", self.tau_rec), ("tau_facil", self.tau_facil)):
            _per_pre(v, n, name)
        dtype = self.U.dtype
        return {
            "u": jnp.zeros((n,), dtype),
            "x": jnp.ones((n,), dtype),
            "elapsed": jnp.zeros((n,), jnp.int32),
        }

    def step(self, state, drive, i, dt, key):
        """Relax ``u, x`` over the gap since each neuron's last spike; release at spikes.

        On CPU with stored (CSR) connectivity and the projection's backend ``"auto"`` or
        ``"ffi"``, one compiled pass (``csrc/stp_kernels.cc``) updates the state of the
        neurons that spiked and delivers their release (the returned transmission carries
        it as ``out``); it uses the C library's ``exp``, so ``u``, ``x`` and the release
        agree with :meth:`transmit` (the reference, used elsewhere) to a few ulp.
        """
        if self._fuse(state, drive):
            new, values, out = _stp_deliver(self, state, drive.pre, jnp.asarray(dt), drive.conn)
            return new, Transmission(values, drive.conn).with_out(out)
        state, values = self.transmit(state, drive.pre, dt)
        return state, Transmission(values, drive.conn)

    def _fuse(self, state, drive) -> bool:
        conn, dtype = drive.conn, state["u"].dtype
        return (
            type(self).transmit is TsodyksMarkram.transmit
            and isinstance(conn, CSR)
            and drive.backend in ("auto", "ffi")
            and dtype in FFI_DTYPES
            and conn.weights.dtype == dtype
            and ffi_available()
        )

    def transmit(self, state, pre_spikes, dt):
        """``(state, values)``: the release ``u x`` per presynaptic spike of this step."""
        s = pre_spikes.astype(state["u"].dtype)
        elapsed = jnp.minimum(state["elapsed"] + 1, _MAX_ELAPSED)
        gap = elapsed.astype(s.dtype) * dt
        # tau_facil = 0: u relaxes to 0 at once (exp(-inf) = 0), without dividing by 0.
        safe = jnp.where(self.tau_facil > 0, self.tau_facil, 1.0)
        f_u = jnp.where(self.tau_facil > 0, jnp.exp(-gap / safe), 0.0)
        u = state["u"] * f_u
        x = 1.0 + (state["x"] - 1.0) * jnp.exp(-gap / self.tau_rec)
        u = u + s * self.U * (1.0 - u)
        release = u * x
        x = x - s * release
        spiked = s != 0
        new = {
            "u": jnp.where(spiked, u, state["u"]),
            "x": jnp.where(spiked, x, state["x"]),
            "elapsed": jnp.where(spiked, 0, elapsed),
        }
        return new, s * release


def _stp_reference(rule, state, spikes, dt, conn):
    new, values = rule.transmit(state, spikes, dt)
    return new, values, event_matvec(conn, values)


def _stp_kernel(rule, state, spikes, dt, conn):
    out, values, new = stp_deliver_ffi(
        spikes, state, rule.U, rule.tau_rec, rule.tau_facil, dt, conn
    )
    return new, values, out


@jax.custom_jvp
def _stp_deliver(rule, state, spikes, dt, conn):
    """``(state, values, values @ W)``: the compiled kernel on CPU, else :meth:`transmit`
    and ``event_matvec``; derivatives are the reference's."""
    args = (rule, state, spikes, dt, conn)
    return lax.platform_dependent(*args, cpu=_stp_kernel, default=_stp_reference)


@_stp_deliver.defjvp
def _stp_deliver_jvp(primals, tangents):
    _, tan = jax.jvp(_stp_reference, primals, tangents)
    return _stp_deliver(*primals), tan


def tsodyks_markram_train(U, tau_rec, tau_facil, intervals, n_spikes: int | None = None):
    """Relative PSC amplitudes ``u_n R_n`` of a spike train (Markram et al. 1998 recursion).

    Plain numpy (float64), independent of the simulator: a reference for the closed form.

    Args:
        U, tau_rec, tau_facil: as in :class:`TsodyksMarkram` (ms).
        intervals: inter-spike intervals (ms): an array of ``n - 1`` values, or a scalar for a
            regular train (then ``n_spikes`` is required).
        n_spikes: number of spikes of a regular train.

    Returns:
        ``(amplitudes, u, R)``, arrays of length ``n``: the PSC of spike ``n`` is
        ``w * amplitudes[n]``.
    """
    intervals = np.asarray(intervals, dtype=np.float64)
    if intervals.ndim == 0:
        if n_spikes is None or n_spikes < 1:
            raise ValueError("n_spikes (>= 1) is required with a scalar interval")
        intervals = np.full(n_spikes - 1, float(intervals))
    n = len(intervals) + 1
    u, r = np.empty(n), np.empty(n)
    u[0], r[0] = U, 1.0
    for k, d in enumerate(intervals):
        ef = np.exp(-d / tau_facil) if tau_facil > 0 else 0.0
        ed = np.exp(-d / tau_rec)
        u[k + 1] = U + u[k] * (1.0 - U) * ef
        r[k + 1] = 1.0 + (r[k] * (1.0 - u[k]) - 1.0) * ed
    return u * r, u, r


def tsodyks_markram_steady_state(U, tau_rec, tau_facil, interval):
    """Steady state of a regular train with period ``interval`` (ms): ``(u_inf, R_inf, amp)``.

    ``u_inf = U / (1 - (1 - U) e^{-T/tau_facil})`` (utilisation just after a spike),
    ``R_inf = (1 - e^{-T/tau_rec}) / (1 - (1 - u_inf) e^{-T/tau_rec})`` (resources just
    before a spike), ``amp = u_inf R_inf`` (fixed points of the recursion in
    :func:`tsodyks_markram_train`).
    """
    ef = np.exp(-interval / tau_facil) if tau_facil > 0 else 0.0
    ed = np.exp(-interval / tau_rec)
    u_inf = U / (1.0 - (1.0 - U) * ef)
    r_inf = (1.0 - ed) / (1.0 - (1.0 - u_inf) * ed)
    return u_inf, r_inf, u_inf * r_inf
