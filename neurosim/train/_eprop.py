r"""e-prop: an online learning rule for recurrent spiking networks (Bellec et al. 2020).

e-prop (Bellec et al. 2020, *Nat. Commun.* 11:3625) factorises the gradient of a loss
``E = sum_t E_t`` with respect to input and recurrent weights as

.. math::
    \frac{dE}{dW_{ji}} \approx \sum_t L_j^t \, \bar e_{ji}^t,

with a learning signal ``L_j^t`` (the readout error fed back to neuron ``j`` through the
readout weights, "symmetric e-prop", or a fixed random matrix, "random e-prop") and an
eligibility trace ``e_ji^t = dz_j^t/dW_ji`` computed forward in time from the neuron's own
dynamics only, low-pass filtered by the readout's time constant (``\bar e``). It drops the
gradient paths through other neurons' future spikes, so memory is independent of the sequence
length: O(n_pre n d) for ``d`` state variables per neuron.

Here the eligibility traces are computed for any element-wise neuron model (``LIF``, ``ALIF``,
...) from the Jacobians of the layer's own step (:meth:`SpikingLayer.core`) by forward-mode
autodiff: with hidden state ``h_j`` (synaptic current, membrane potential, adaptation) and
input current ``I_j = sum_i W_ji x_i``,

.. math::
    \epsilon^t_{ji} = \frac{\partial h_j^t}{\partial h_j^{t-1}} \epsilon^{t-1}_{ji}
      + \frac{\partial h_j^t}{\partial I_j^t} x_i^t, \qquad
    e^t_{ji} = \frac{\partial z_j^t}{\partial h_j^{t-1}} \epsilon^{t-1}_{ji}
      + \frac{\partial z_j^t}{\partial I_j^t} x_i^t,

where ``x`` is the input spikes and the previous step's recurrent spikes. The readout weights
get their exact gradient. Without recurrent weights (or with them zero) this equals BPTT.
"""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._snn import SNN

__all__ = ["eprop_grad", "make_eprop_grad_fn", "random_feedback", "cosine_similarity"]


def random_feedback(key, n_hidden: int, n_out: int, std=None):
    """A fixed random feedback matrix ``(n_hidden, n_out)`` for random e-prop.

    Default std ``1/sqrt(n_hidden)``, of the order of the readout weights it replaces.
    """
    std = 1.0 / np.sqrt(n_hidden) if std is None else std
    return std * jax.random.normal(key, (n_hidden, n_out), jnp.result_type(float))


def _check(model: SNN):
    if not isinstance(model, SNN) or len(model.layers) != 1 or model.readout is None:
        raise ValueError(
            "e-prop needs an SNN with one (recurrent) spiking layer and a LeakyReadout, "
            "e.g. ns.train.make_snn(key, [n_in, n_rec, n_out], recurrent=True)"
        )
    if model.readout.tau_syn is not None:
        raise ValueError("e-prop needs a readout without synaptic filter (readout_tau_syn=None)")
    tau = model.readout.tau_m
    if not isinstance(tau, jax.core.Tracer) and np.ptp(np.asarray(tau)) > 0:
        raise ValueError("e-prop needs one readout time constant shared by all outputs")


def eprop_grad(
    model: SNN,
    xs,
    targets,
    dt,
    step_loss: Callable,
    *,
    feedback=None,
    state=None,
):
    """Loss and e-prop gradient for one sequence (online: memory independent of ``T``).

    Args:
        model: an :class:`SNN` with one spiking layer (recurrent or not, any element-wise
            neuron model) and a :class:`LeakyReadout` without synaptic filter.
        xs: input spikes ``(T, n_in)``.
        targets: pytree with leading axis ``T`` (per-step targets, e.g. one-hot labels).
        dt: step (ms).
        step_loss: ``(u_t, target_t) -> scalar``: the loss of the readout ``u_t``
            (``(n_out,)``, mV) at one step; the total loss is the sum over steps.
        feedback: None for symmetric e-prop (readout weights), or a fixed ``(n, n_out)``
            matrix (random e-prop, see :func:`random_feedback`).
        state: initial state (default ``model.init_state()``).

    Returns:
        ``(loss, grads)``; ``grads`` has the structure of ``eqx.filter(model,
        eqx.is_inexact_array)``: e-prop gradients for the input/recurrent weights and bias,
        exact ones for the readout, zeros for everything else (neuron parameters).

    Example:
        >>> import jax, jax.numpy as jnp, neurosim as ns
        >>> net = ns.train.make_snn(jax.random.key(0), [5, 20, 2], recurrent=True)
        >>> x = (jax.random.uniform(jax.random.key(1), (30, 5)) < 0.2).astype(float)
        >>> y = jnp.zeros((30, 2))
        >>> mse = lambda u, t: 0.5 * jnp.sum((u - t) ** 2)
        >>> loss, g = ns.train.eprop_grad(net, x, y, 1.0, mse)
    """
    _check(model)
    layer, ro = model.layers[0], model.readout
    n, n_out = layer.n, ro.n
    state = model.init_state() if state is None else state
    lstate = state["layers"][0]
    dtype = jnp.result_type(float)

    core0 = {"neuron": lstate["neuron"], "i_syn": lstate["i_syn"]}
    hf0, hrest = eqx.partition(core0, eqx.is_inexact_array)
    leaves0, treedef = jax.tree.flatten(hf0)
    d = len(leaves0)
    has_bias = layer.linear.bias is not None
    has_rec = layer.recurrent is not None
    n_in = layer.linear.weight.shape[0]
    n_pre = n_in + int(has_bias) + (n if has_rec else 0)

    kappa = jnp.exp(-dt / ro.tau_m[0])
    c_out = (1.0 - kappa) / ro.g_l  # du/dI per step, (n_out,)
    w_out = ro.linear.weight
    fb = w_out if feedback is None else jnp.asarray(feedback, dtype)
    if fb.shape != (n, n_out):
        raise ValueError(f"feedback must have shape ({n}, {n_out}), got {fb.shape}")

    def f(h, current, rest):
        core = eqx.combine(jax.tree.unflatten(treedef, list(h)), rest)
        new, z = layer.core(core, current, dt)
        new_f, new_rest = eqx.partition(new, eqx.is_inexact_array)
        return (jnp.stack(jax.tree.leaves(new_f)), z), new_rest

    eye = jnp.broadcast_to(jnp.eye(d, dtype=dtype)[:, :, None], (d, d, n))
    tan_h = jnp.concatenate([eye, jnp.zeros((1, d, n), dtype)])
    tan_i = jnp.concatenate([jnp.zeros((d, n), dtype), jnp.ones((1, n), dtype)])

    def body(carry, inp):
        ls, us, eps, ebar, zbar, sbar, g_pre, g_out, g_bout, loss = carry
        x, target = inp
        parts = [x] + ([jnp.ones((1,), dtype)] if has_bias else []) + ([ls["z"]] if has_rec else [])
        pre = jnp.concatenate(parts)
        current = layer.linear(x)
        if has_rec:
            current = current + layer.recurrent(ls["z"])
        core = {"neuron": ls["neuron"], "i_syn": ls["i_syn"]}
        hf, rest = eqx.partition(core, eqx.is_inexact_array)
        h = jnp.stack(jax.tree.leaves(hf))

        (h_new, z), f_lin, rest_new = jax.linearize(
            lambda hh, cc: f(hh, cc, rest), h, current, has_aux=True
        )
        dh, dz = jax.vmap(f_lin)(tan_h, tan_i)  # dh (d+1, d, n), dz (d+1, n)
        e = jnp.einsum("kn,kpn->pn", dz[:d], eps) + dz[d][None, :] * pre[:, None]
        eps = jnp.einsum("kln,kpn->lpn", dh[:d], eps) + dh[d][:, None, :] * pre[None, :, None]

        new_core = eqx.combine(jax.tree.unflatten(treedef, list(h_new)), rest_new)
        ls = {**new_core, "z": z}
        us, u = ro.cell(us, ro.linear(z), dt)
        loss_t, delta = jax.value_and_grad(step_loss)(u, target)
        err = c_out * delta  # dE_t/dI_out (per output)
        learning = fb @ err  # (n,)
        ebar = kappa * ebar + e
        zbar = kappa * zbar + z
        sbar = kappa * sbar + 1.0
        g_pre = g_pre + ebar * learning[None, :]
        g_out = g_out + zbar[:, None] * err[None, :]
        g_bout = g_bout + sbar * err
        return (ls, us, eps, ebar, zbar, sbar, g_pre, g_out, g_bout, loss + loss_t), None

    carry = (
        lstate,
        state["readout"],
        jnp.zeros((d, n_pre, n), dtype),
        jnp.zeros((n_pre, n), dtype),
        jnp.zeros((n,), dtype),
        jnp.zeros((), dtype),
        jnp.zeros((n_pre, n), dtype),
        jnp.zeros((n, n_out), dtype),
        jnp.zeros((n_out,), dtype),
        jnp.zeros((), dtype),
    )
    carry, _ = jax.lax.scan(body, carry, (xs, targets))
    *_, g_pre, g_out, g_bout, loss = carry

    grads = jax.tree.map(jnp.zeros_like, eqx.filter(model, eqx.is_inexact_array))
    # Gradients w.r.t. the physical weights (pA) -> w.r.t. the stored w = weight / unit.
    u_in = layer.linear.unit
    grads = eqx.tree_at(lambda g: g.layers[0].linear.w, grads, g_pre[:n_in] * u_in)
    if has_bias:
        grads = eqx.tree_at(lambda g: g.layers[0].linear.b, grads, g_pre[n_in] * u_in)
    if has_rec:
        u_rec = layer.recurrent.unit
        grads = eqx.tree_at(lambda g: g.layers[0].recurrent.w, grads, g_pre[-n:] * u_rec)
    grads = eqx.tree_at(lambda g: g.readout.linear.w, grads, g_out * ro.linear.unit)
    if ro.linear.b is not None:
        grads = eqx.tree_at(lambda g: g.readout.linear.b, grads, g_bout * ro.linear.unit)
    return loss, grads


def make_eprop_grad_fn(dt, step_loss: Callable, *, feedback=None) -> Callable:
    """A ``grad_fn(model, batch, key) -> (loss, grads)`` for :func:`make_train_step`/:func:`fit`.

    ``batch = (xs, targets)`` with a leading batch axis; loss and gradients are batch means.
    """

    def grad_fn(model, batch, key):
        xs, targets = batch
        loss, grads = jax.vmap(
            lambda x, t: eprop_grad(model, x, t, dt, step_loss, feedback=feedback)
        )(xs, targets)
        return jnp.mean(loss), jax.tree.map(lambda g: jnp.mean(g, 0), grads)

    return grad_fn


def cosine_similarity(a, b) -> jax.Array:
    """Cosine of the angle between two pytrees of arrays (flattened and concatenated)."""
    fa = jnp.concatenate([jnp.ravel(x) for x in jax.tree.leaves(a)])
    fb = jnp.concatenate([jnp.ravel(x) for x in jax.tree.leaves(b)])
    return jnp.dot(fa, fb) / (jnp.linalg.norm(fa) * jnp.linalg.norm(fb) + 1e-30)
