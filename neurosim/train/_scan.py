"""Loops over time for training: nested (recursive) checkpointing and truncated BPTT.

Backpropagation through time (BPTT) over ``lax.scan`` keeps the residuals of every step for the
backward pass: memory O(T). Checkpointing trades memory for recomputation (Griewank & Walther
2000, *ACM TOMS* 26:19; Chen et al. 2016, arXiv:1604.06174): with ``levels`` nested scans,
each level's body under ``jax.checkpoint``, the forward pass stores only the carries at block
boundaries of every level, and the backward pass recomputes one block at a time. With
``levels = 2`` and blocks of ~sqrt(T) steps, memory is O(sqrt(T)) for about one extra forward
pass; ``levels = L`` gives O(L T^(1/L)) for L - 1 extra forward passes.

Per-step outputs (``ys``) are stored by any scan; to profit from checkpointing, accumulate the
loss in the carry instead of returning long output sequences.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp

__all__ = ["scan", "truncated_bptt"]

CHECKPOINTS = (None, "none", "step", "nested")


def _length(xs, length):
    leaves = jax.tree.leaves(xs)
    if leaves:
        n = leaves[0].shape[0]
        if length is not None and int(length) != n:
            raise ValueError(f"length={length} but xs have leading size {n}")
        return n
    if length is None:
        raise ValueError("scan needs xs or length")
    return int(length)


def _split(xs, n_blocks, block):
    head = jax.tree.map(
        lambda x: x[: n_blocks * block].reshape((n_blocks, block) + x.shape[1:]), xs
    )
    tail = jax.tree.map(lambda x: x[n_blocks * block :], xs)
    return head, tail


def _nested(f, init, xs, length, levels):
    if levels <= 1 or length <= 2:
        return jax.lax.scan(f, init, xs, length=length)
    inner = math.ceil(length ** ((levels - 1) / levels))
    n_blocks, rem = divmod(length, inner)

    @functools.partial(jax.checkpoint, prevent_cse=False)
    def block(carry, xb):
        return _nested(f, carry, xb, inner, levels - 1)

    head, tail = _split(xs, n_blocks, inner) if xs is not None else (None, None)
    carry, ys = jax.lax.scan(block, init, head, length=n_blocks)
    ys = jax.tree.map(lambda y: y.reshape((n_blocks * inner,) + y.shape[2:]), ys)
    if rem:
        carry, ys_tail = _nested(f, carry, tail, rem, levels - 1)
        ys = jax.tree.map(lambda a, b: jnp.concatenate([a, b]), ys, ys_tail)
    return carry, ys


def scan(
    f: Callable,
    init,
    xs=None,
    length: int | None = None,
    *,
    checkpoint: str | None = None,
    levels: int = 2,
):
    """``lax.scan(f, init, xs, length)`` with a choice of checkpointing for reverse mode.

    Args:
        f: ``(carry, x) -> (carry, y)``.
        init: initial carry.
        xs: per-step inputs (leading axis = time) or None.
        length: number of steps (needed when ``xs`` is None).
        checkpoint: None/"none" (plain BPTT, memory O(T)); "step" (rematerialise each step:
            O(T) carries, no per-step residuals); "nested" (``levels`` nested scans, each block
            checkpointed: memory O(levels T^(1/levels)), (levels - 1) extra forward passes).
        levels: nesting depth for ``"nested"`` (>= 2).

    Returns:
        ``(carry, ys)`` exactly as ``lax.scan`` (same values for every ``checkpoint``).

    Example:
        >>> import jax, jax.numpy as jnp, neurosim as ns
        >>> f = lambda c, x: (0.9 * c + x, c)
        >>> c, ys = ns.train.scan(f, 0.0, jnp.ones(100), checkpoint="nested")
    """
    if checkpoint not in CHECKPOINTS:
        raise ValueError(f"checkpoint must be one of {CHECKPOINTS}, got {checkpoint!r}")
    if int(levels) < 2:
        raise ValueError(f"levels must be >= 2, got {levels}")
    n = _length(xs, length)
    if checkpoint == "step":
        return jax.lax.scan(jax.checkpoint(f, prevent_cse=False), init, xs, length=n)
    if checkpoint == "nested":
        return _nested(f, init, xs, n, int(levels))
    return jax.lax.scan(f, init, xs, length=n)


def truncated_bptt(
    step_loss: Callable,
    model,
    carry,
    xs,
    window: int,
    *,
    checkpoint: str | None = None,
):
    """Truncated BPTT: gradients summed over windows of ``window`` steps; memory O(window).

    The state is carried forward across windows but no gradient flows across a window
    boundary (Williams & Peng 1990, *Neural Comput.* 2:490). With ``window >= T`` this is
    exact BPTT.

    Args:
        step_loss: ``(model, carry, x) -> (carry, loss_t)`` for one time step.
        model: a pytree (e.g. an ``eqx.Module``); gradients are taken with respect to its
            inexact-array leaves (partition it first to train a subset).
        carry: the initial state.
        xs: per-step inputs, leading axis = time.
        window: truncation length (steps, >= 1).
        checkpoint: checkpointing inside each window (see :func:`scan`).

    Returns:
        ``(loss, grads, carry)``: the summed loss over all steps, its truncated gradient (same
        structure as ``eqx.filter(model, eqx.is_inexact_array)``) and the final carry.

    Example:
        >>> import jax, jax.numpy as jnp, neurosim as ns
        >>> def step_loss(w, c, x):
        ...     c = 0.9 * c + w * x
        ...     return c, (c - 1.0) ** 2
        >>> loss, g, c = ns.train.truncated_bptt(step_loss, jnp.asarray(0.5), 0.0, jnp.ones(50), 10)
    """
    window = int(window)
    if window < 1:
        raise ValueError(f"window must be >= 1 step, got {window}")
    n = _length(xs, None)
    n_win, rem = divmod(n, window)
    params, static = eqx.partition(model, eqx.is_inexact_array)

    def window_loss(p, c, xw):
        m = eqx.combine(p, static)
        c, losses = scan(lambda c_, x: step_loss(m, c_, x), c, xw, checkpoint=checkpoint)
        return jnp.sum(losses), c

    grad_fn = jax.value_and_grad(window_loss, has_aux=True)

    def one(acc, xw):
        c, g_acc, l_acc = acc
        (loss, c), g = grad_fn(params, jax.lax.stop_gradient(c), xw)
        return (c, jax.tree.map(jnp.add, g_acc, g), l_acc + loss), None

    zero = jax.tree.map(jnp.zeros_like, params)
    acc = (carry, zero, jnp.zeros((), jnp.result_type(float)))
    head, tail = _split(xs, n_win, window)
    if n_win:
        acc, _ = jax.lax.scan(one, acc, head)
    if rem:
        acc, _ = one(acc, tail)
    carry, grads, loss = acc
    return loss, grads, carry
