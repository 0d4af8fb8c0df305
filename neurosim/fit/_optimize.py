"""A compiled gradient-descent loop (optax) for fitting, and relative-error summaries."""

from __future__ import annotations

from collections.abc import Callable

import jax
import numpy as np
import optax

__all__ = ["minimize", "relative_errors"]


def minimize(
    loss_fn: Callable,
    u0,
    *,
    steps: int,
    learning_rate: float = 0.05,
    optimizer: optax.GradientTransformation | None = None,
    clip_norm: float | None = None,
    schedule: str = "cosine",
    method: str = "adam",
):
    """Minimise ``loss_fn(u)`` over the pytree ``u`` with an optax optimiser, in one ``jit``.

    The update (loss, gradient, optimiser step) is one compiled function; ``u`` lives in the
    unconstrained space of a :class:`ParameterSpace`. The default optimiser is Adam with a
    cosine-decayed learning rate (``schedule="cosine"``; ``"constant"`` to keep it) and,
    with ``clip_norm``, global-norm gradient clipping. Non-finite gradients skip the step.

    Args:
        loss_fn: scalar function of ``u`` (may close over data; must be jit-able).
        u0: initial unconstrained parameters.
        steps: number of iterations.
        learning_rate: peak learning rate of the default optimiser.
        optimizer: replace the default optimiser.
        clip_norm: clip the global gradient norm to this value.
        schedule: ``"cosine"`` or ``"constant"``.
        method: ``"adam"`` (default; robust to noisy or non-smooth losses) or ``"lbfgs"``
            (optax L-BFGS with a zoom line search: far fewer iterations on smooth,
            ill-conditioned losses such as teacher-forced voltage fits; ``learning_rate``,
            ``schedule`` and ``clip_norm`` do not apply).

    Returns:
        ``(u, losses)``: the final parameters and the loss at every iteration (NumPy).

    Example:
        >>> import jax.numpy as jnp, neurosim as ns
        >>> u, hist = ns.fit.minimize(lambda u: jnp.sum((u - 3.0) ** 2), jnp.zeros(2), steps=300,
        ...                           learning_rate=0.1)
    """
    steps = int(steps)
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    if method == "lbfgs":
        return _lbfgs(loss_fn, u0, steps)
    if method != "adam":
        raise ValueError(f"method must be 'adam' or 'lbfgs', got {method!r}")
    if optimizer is None:
        if schedule == "cosine":
            lr = optax.cosine_decay_schedule(learning_rate, steps, alpha=0.01)
        elif schedule == "constant":
            lr = learning_rate
        else:
            raise ValueError(f"schedule must be 'cosine' or 'constant', got {schedule!r}")
        optimizer = optax.adam(lr)
    if clip_norm is not None:
        optimizer = optax.chain(optax.clip_by_global_norm(clip_norm), optimizer)
    optimizer = optax.apply_if_finite(optimizer, max_consecutive_errors=10)

    @jax.jit
    def update(u, opt_state):
        loss, grad = jax.value_and_grad(loss_fn)(u)
        upd, opt_state = optimizer.update(grad, opt_state, u)
        return optax.apply_updates(u, upd), opt_state, loss

    u, state = u0, optimizer.init(u0)
    losses = np.empty(steps)
    for i in range(steps):
        u, state, loss = update(u, state)
        losses[i] = float(loss)
    return u, losses


def _lbfgs(loss_fn, u0, steps):
    opt = optax.lbfgs()
    value_and_grad = optax.value_and_grad_from_state(loss_fn)

    @jax.jit
    def update(u, state):
        value, grad = value_and_grad(u, state=state)
        upd, state = opt.update(grad, state, u, value=value, grad=grad, value_fn=loss_fn)
        return optax.apply_updates(u, upd), state, value

    u, state = u0, opt.init(u0)
    losses = np.empty(steps)
    for i in range(steps):
        u, state, loss = update(u, state)
        losses[i] = float(loss)
    return u, losses


def relative_errors(fitted: dict, truth: dict) -> dict:
    """``|fitted - truth| / |truth|`` per parameter (floats; means over array entries)."""
    return {
        k: float(np.mean(np.abs(np.asarray(fitted[k]) - truth[k]) / np.abs(truth[k])))
        for k in truth
    }
