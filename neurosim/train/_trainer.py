"""Compiled training steps and a small epoch loop with the data staged on the device.

``make_train_step`` fuses gradient, optimiser update and parameter update in one ``jit``;
``fit`` runs a whole epoch (shuffle, slice batches, step) as one compiled ``lax.scan`` over
batches of arrays that live on the device, so the host only starts epochs and logs.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from ._params import unwrap

__all__ = ["make_train_step", "init_opt_state", "fit", "predict_batched"]


def init_opt_state(optimizer: optax.GradientTransformation, model, filter_spec=None):
    """``optimizer.init`` on the trainable part of ``model`` (see :func:`make_train_step`)."""
    spec = eqx.is_inexact_array if filter_spec is None else filter_spec
    params, _ = eqx.partition(model, spec)
    return optimizer.init(params)


def make_train_step(
    loss_fn: Callable | None,
    optimizer: optax.GradientTransformation,
    *,
    filter_spec=None,
    has_aux: bool = False,
    grad_fn: Callable | None = None,
    jit: bool = True,
):
    """Build ``step(model, opt_state, batch, key) -> (model, opt_state, loss, aux)``.

    One call computes the loss and its gradient with respect to the trainable leaves, the
    optimiser update and the new model, all in one compiled function. Constrained parameters
    (:class:`Positive`, :class:`Bounded`) are unwrapped before ``loss_fn`` sees the model,
    and updated in their unconstrained form.

    Args:
        loss_fn: ``(model, batch, key) -> loss`` (or ``(loss, aux)`` with ``has_aux``).
        optimizer: an optax transformation.
        filter_spec: which leaves train (bool pytree from :func:`trainable`, or a predicate);
            default every inexact array.
        has_aux: ``loss_fn`` returns ``(loss, aux)``.
        grad_fn: instead of differentiating ``loss_fn``, a function
            ``(model, batch, key) -> (loss, grads)`` (e.g. e-prop), where ``grads`` has the
            structure of ``eqx.filter(model, eqx.is_inexact_array)``; ``aux`` is then None.
            (Constrained parameters are not supported with ``grad_fn``.)
        jit: compile the step (``eqx.filter_jit``).

    Example:
        >>> import jax, jax.numpy as jnp, optax, neurosim as ns
        >>> net = ns.train.make_snn(jax.random.key(0), [4, 16, 2])
        >>> def loss_fn(m, batch, key):
        ...     x, y = batch
        ...     u = jax.vmap(lambda xi: m(xi, 1.0).readout)(x)
        ...     return ns.train.max_membrane_cross_entropy(u, y)
        >>> opt = optax.adam(1e-3)
        >>> step = ns.train.make_train_step(loss_fn, opt)
        >>> state = ns.train.init_opt_state(opt, net)
        >>> batch = (jnp.zeros((8, 20, 4)), jnp.zeros(8, int))
        >>> net, state, loss, _ = step(net, state, batch, jax.random.key(1))
    """
    if (loss_fn is None) == (grad_fn is None):
        raise ValueError("give exactly one of loss_fn and grad_fn")
    spec = eqx.is_inexact_array if filter_spec is None else filter_spec

    def step(model, opt_state, batch, key):
        params, static = eqx.partition(model, spec)
        if grad_fn is not None:
            loss, grads = grad_fn(unwrap(model), batch, key)
            grads = eqx.filter(grads, spec)
            aux = None
        else:

            def f(p):
                out = loss_fn(unwrap(eqx.combine(p, static)), batch, key)
                return out if has_aux else (out, None)

            (loss, aux), grads = jax.value_and_grad(f, has_aux=True)(params)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        params = optax.apply_updates(params, updates)
        return eqx.combine(params, static), opt_state, loss, aux

    return eqx.filter_jit(step) if jit else step


def print_epoch(rec: dict) -> None:
    """Print one line per epoch record of :func:`fit` (every metric; a ready ``log=`` hook).

    Example:
        >>> import neurosim as ns
        >>> ns.train.print_epoch({"epoch": 3, "loss": 0.25, "time_s": 1.5, "test_accuracy": 0.9})
        epoch   3  loss 0.2500  test_accuracy 0.9000  (1.5 s)
    """
    extra = "".join(
        f"  {k} {v:.4f}" for k, v in rec.items() if k not in ("epoch", "loss", "time_s")
    )
    print(
        f"epoch {rec['epoch']:3d}  loss {rec['loss']:.4f}{extra}  ({rec['time_s']:.1f} s)",
        flush=True,
    )


def fit(
    model,
    loss_fn: Callable,
    optimizer: optax.GradientTransformation,
    data,
    *,
    epochs: int,
    batch_size: int,
    key,
    filter_spec=None,
    eval_fn: Callable | None = None,
    grad_fn: Callable | None = None,
    log: Callable | None = None,
):
    """Train for ``epochs`` epochs; returns ``(model, history)``.

    ``data`` is a pytree of arrays with a common leading sample axis (e.g. ``(x, y)``); it is
    put on the device once. Each epoch draws a permutation, drops the last incomplete batch,
    and runs every step inside one compiled ``lax.scan``.

    Args:
        model, loss_fn, optimizer, filter_spec, grad_fn: as for :func:`make_train_step`
            (``loss_fn(model, batch, key) -> loss``; give ``loss_fn=None`` with ``grad_fn``).
        data: training arrays, leading axis = samples.
        epochs: number of passes.
        batch_size: samples per step.
        key: random key (shuffling and the per-step keys passed to ``loss_fn``).
        eval_fn: ``model -> dict`` of metrics (e.g. test accuracy), called after each epoch.
        log: ``dict -> None`` called with each epoch's record (e.g. :func:`print_epoch`).

    Returns:
        The trained model and a list of per-epoch dicts: ``epoch``, ``loss`` (mean over the
        epoch's steps), ``time_s`` (wall time of the epoch) and ``eval_fn``'s metrics.
    """
    data = jax.device_put(data)
    n = jax.tree.leaves(data)[0].shape[0]
    n_batches = n // int(batch_size)
    if n_batches < 1:
        raise ValueError(f"batch_size={batch_size} is larger than the {n} training samples")
    spec = eqx.is_inexact_array if filter_spec is None else filter_spec
    step = make_train_step(loss_fn, optimizer, filter_spec=spec, grad_fn=grad_fn, jit=False)
    opt_state = init_opt_state(optimizer, model, spec)

    @eqx.filter_jit
    def epoch(model, opt_state, data, key):
        k_perm, k_steps = jax.random.split(key)
        idx = jax.random.permutation(k_perm, n)[: n_batches * batch_size]
        idx = idx.reshape(n_batches, batch_size)
        params, static = eqx.partition(model, spec)

        def body(carry, inp):
            p, s = carry
            i, k = inp
            batch = jax.tree.map(lambda a: a[i], data)
            m, s, loss, _ = step(eqx.combine(p, static), s, batch, k)
            return (eqx.partition(m, spec)[0], s), loss

        keys = jax.random.split(k_steps, n_batches)
        (params, opt_state), losses = jax.lax.scan(body, (params, opt_state), (idx, keys))
        return eqx.combine(params, static), opt_state, jnp.mean(losses)

    history = []
    for ep in range(int(epochs)):
        t0 = time.perf_counter()
        model, opt_state, loss = epoch(model, opt_state, data, jax.random.fold_in(key, ep))
        loss = float(loss)
        rec = {"epoch": ep + 1, "loss": loss, "time_s": time.perf_counter() - t0}
        if eval_fn is not None:
            rec.update({k: float(v) for k, v in eval_fn(model).items()})
        history.append(rec)
        if log is not None:
            log(rec)
        if not np.isfinite(loss):
            raise FloatingPointError(
                f"training loss is {loss} in epoch {ep + 1}: lower the learning rate, shorten "
                "the sequences or the surrogate scale (exploding gradients)"
            )
    return model, history


def predict_batched(fn: Callable, x, batch_size: int = 256):
    """Apply ``fn`` (one batch -> array) to ``x`` in batches inside one compiled loop.

    The last incomplete batch is padded (by repeating the last sample) and cropped.
    """
    x = jax.device_put(x)
    n = jax.tree.leaves(x)[0].shape[0]
    n_b = -(-n // batch_size)
    pad = n_b * batch_size - n

    @eqx.filter_jit
    def run(x):
        xp = jax.tree.map(lambda a: jnp.concatenate([a, jnp.repeat(a[-1:], pad, 0)]), x)
        xb = jax.tree.map(lambda a: a.reshape((n_b, batch_size) + a.shape[1:]), xp)
        out = jax.lax.map(fn, xb)
        return jax.tree.map(lambda o: o.reshape((n_b * batch_size,) + o.shape[2:])[:n], out)

    return run(x)
