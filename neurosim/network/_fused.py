"""Fused population steps: the whole step of a population in one compiled call (CPU).

A COBA-type population (:class:`~neurosim.neurons.LIF` with the Euler integrator, exponential
conductances with COBA outputs, projected onto only by itself without delays or plasticity)
costs XLA about ten passes over its state per step: the membrane update is recomputed in each
fusion that needs the spikes (threshold, reset, refractory counter, the spike slices of each
projection, the record), then the delivery kernel and the receptor decay run as separate
passes. :func:`neurosim.ops.lif_step_ffi` does all of it in one call, reading and writing the
state once, with the same arithmetic (bitwise the same spikes and states).

:func:`fused_populations` decides, from the static structure, which populations take the
fused step; :func:`neurosim.simulate` asks for it (``network_step(..., fused=True)``), while
:func:`neurosim.run` (differentiable) always takes the pure-JAX phases, which stay the
reference the fused kernel is tested against.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ..integrators import Euler
from ..neurons import LIF
from ..ops import CSR, FFI_DTYPES, LIF_MAX_RECEPTORS, ffi_available, lif_step_ffi
from ..synapses import COBA, Exponential
from ._network import Network, Plan

__all__ = ["fused_populations", "fused_step"]


def _receptors_ok(pop) -> bool:
    if not 1 <= len(pop.receptors) <= LIF_MAX_RECEPTORS:
        return False
    for rec in pop.receptors:
        if type(rec.kinetics) is not Exponential or type(rec.output) is not COBA:
            return False
        if jnp.ndim(rec.kinetics.tau) != 0 or jnp.ndim(rec.output.e_rev) != 0:
            return False
    return True


def _projections(net: Network, plan: Plan, i: int) -> tuple[int, ...] | None:
    """Indices of the projections onto population ``i`` if all can be fused, else None."""
    n = net.populations[i].n
    found = []
    for j, (pr, d) in enumerate(zip(net.projections, plan.delay_steps, strict=True)):
        if pr.post != i:
            continue
        if (
            pr.pre != i
            or d != 0
            or pr.dynamics is not None
            or pr.synapse_delays is not None
            or not isinstance(pr.conn, CSR)
            or pr.backend not in ("auto", "ffi")
            or pr.post_slice != (0, n)
        ):
            return None
        found.append(j)
    return tuple(found) or None


def fused_populations(net: Network, plan: Plan) -> dict[int, tuple[int, ...]]:
    """``{population: its projections}`` for the populations whose step can run fused here.

    Static (structure only); empty off CPU or without the compiled kernels.
    """
    if jax.default_backend() != "cpu" or net.gap_junctions or not ffi_available():
        return {}
    driven = {inp.target for inp in net.inputs} | {s.target for s in net.poisson_inputs}
    driven |= {cc.spiking for cc in net.cross}
    out = {}
    for i, p in enumerate(net.populations):
        if type(p.neuron) is not LIF or type(p.neuron.integrator) is not Euler or i in driven:
            continue
        if not _receptors_ok(p):
            continue
        projs = _projections(net, plan, i)
        if projs is not None:
            out[i] = projs
    return out


def fused_step(net: Network, state, i: int, projections: tuple[int, ...], dt):
    """``(neuron state, spikes, receptor states, nonfinite)`` of population ``i`` after one
    fused step (``nonfinite``: the fault check of those states, done by the kernel), or None
    when its state's dtype has no compiled kernel (the caller takes the JAX phases)."""
    p = net.populations[i]
    lif, st = p.neuron, state.neurons[i]
    if st["v"].dtype not in FFI_DTYPES:
        return None
    ref = st["refractory"]
    steps = jnp.round(lif.t_ref / dt).astype(ref.dtype)  # as refractory_update / nest_refractory
    restart = steps if net.conventions.refractory == "nest" else jnp.maximum(steps - 1, 0)
    params = {k: getattr(lif, k) for k in ("tau_m", "e_l", "g_l", "i_e", "v_th", "v_reset")}
    recs = state.receptors[i]
    decay = [jnp.exp(-dt / rec.kinetics.tau) for rec in p.receptors]  # as Exponential.decay
    projs = []
    for j in projections:
        pr = net.projections[j]
        projs.append((pr.conn, pr.pre_slice[0], pr.pre_slice[1], pr.receptor))
    v, ref, spikes, g, bad = lif_step_ffi(
        st["v"],
        ref,
        params,
        jnp.broadcast_to(restart, ref.shape),
        dt,
        [r["g"] for r in recs],
        decay,
        [rec.output.e_rev for rec in p.receptors],
        projs,
    )
    return {**st, "v": v, "refractory": ref}, spikes, tuple({"g": x} for x in g), bad
