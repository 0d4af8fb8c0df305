"""A continuous-time leaky tanh rate RNN, trained by BPTT and analysed by ``ns.dynamics``.

The network of ``n`` units with input ``u`` (``n_in``) and readout ``y`` (``n_out``) is

    tau dx/dt = -x + W tanh(x) + W_in u + b,        y = W_out tanh(x) + b_out

(``x``: the units' dimensionless "currents", ``tau`` in ms), the model of Sussillo & Barak
(2013, *Neural Comput.* 25:626) for slow-point analysis. :meth:`RateRNN.vector_field` is
the flow itself; :meth:`RateRNN.step` its forward-Euler step, which :meth:`RateRNN.__call__`
scans over an input sequence (differentiable end to end, so ``make_train_step`` / ``fit``
train it). ``ns.dynamics.system(rnn, u=...)`` takes the same ``vector_field``, so the fixed
and slow points found are those of the trained model, not of a re-typed copy.
"""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._validate import check_size

__all__ = ["RateRNN", "make_rate_rnn"]


class RateRNN(eqx.Module):
    """Leaky tanh rate network ``tau dx/dt = -x + W tanh(x) + W_in u + b``.

    Attributes:
        w_rec: ``(n, n)`` recurrent weights ``W``. w_in: ``(n, n_in)``. b: ``(n,)`` bias.
        w_out: ``(n_out, n)``. b_out: ``(n_out,)``: readout ``y = W_out tanh(x) + b_out``.
        x0: ``(n,)`` initial state (trainable). tau: time constant (ms).
    """

    w_rec: jax.Array
    w_in: jax.Array
    b: jax.Array
    w_out: jax.Array
    b_out: jax.Array
    x0: jax.Array
    tau: float = eqx.field(static=True, default=10.0)
    flat_state: ClassVar[bool] = True  # ns.dynamics.system: the state is one vector x

    @property
    def n(self) -> int:
        return int(self.w_rec.shape[0])

    @property
    def n_in(self) -> int:
        return int(self.w_in.shape[1])

    @property
    def n_out(self) -> int:
        return int(self.w_out.shape[0])

    def vector_field(self, x, u):
        """``dx/dt`` (per ms) at state ``x`` (``(n,)``) under input ``u`` (``(n_in,)``)."""
        return (-x + self.w_rec @ jnp.tanh(x) + self.w_in @ u + self.b) / self.tau

    def step(self, x, u, dt: float):
        """One forward-Euler step of ``dt`` ms: ``x + dt * vector_field(x, u)``."""
        return x + dt * self.vector_field(x, u)

    def readout(self, x):
        """``y = W_out tanh(x) + b_out`` (any leading axes on ``x``)."""
        return jnp.tanh(x) @ self.w_out.T + self.b_out

    def __call__(self, u_seq, dt: float, x_init=None):
        """Run over ``u_seq`` (``(T, n_in)``); returns ``(xs, ys)``: ``(T, n)``, ``(T, n_out)``.

        ``xs[t]`` is the state after the step driven by ``u_seq[t]``.
        """

        def body(x, u):
            x = self.step(x, u, dt)
            return x, x

        x = self.x0 if x_init is None else x_init
        _, xs = jax.lax.scan(body, x, u_seq)
        return xs, self.readout(xs)


def make_rate_rnn(
    key,
    n_in: int,
    n_hidden: int,
    n_out: int,
    *,
    tau: float = 10.0,
    g: float = 0.9,
    dtype=None,
) -> RateRNN:
    """A :class:`RateRNN` with ``W ~ N(0, g^2 / n)`` (gain ``g``; ``g < 1``: a single stable
    fixed point before training, Sompolinsky et al. 1988), ``W_in ~ N(0, 1 / n_in)``,
    ``W_out ~ N(0, 1 / n)``, zero biases and initial state.

    Example:
        >>> import jax, neurosim as ns
        >>> rnn = ns.train.make_rate_rnn(jax.random.key(0), 3, 32, 3)
        >>> xs, ys = rnn(jax.numpy.zeros((5, 3)), dt=1.0)
        >>> ys.shape
        (5, 3)
    """
    n_in, n, n_out = (check_size(k, v) for k, v in
                      (("n_in", n_in), ("n_hidden", n_hidden), ("n_out", n_out)))  # fmt: skip
    if not (np.isfinite(tau) and tau > 0):
        raise ValueError(f"tau must be a positive time constant in ms, got {tau}")
    if not (np.isfinite(g) and g >= 0):
        raise ValueError(f"g (recurrent gain) must be >= 0, got {g}; 0.9 is a usual start")
    dtype = jnp.result_type(float) if dtype is None else dtype
    k_rec, k_in, k_out = jax.random.split(key, 3)
    return RateRNN(
        w_rec=g / np.sqrt(n) * jax.random.normal(k_rec, (n, n), dtype),
        w_in=jax.random.normal(k_in, (n, n_in), dtype) / np.sqrt(n_in),
        b=jnp.zeros((n,), dtype),
        w_out=jax.random.normal(k_out, (n_out, n), dtype) / np.sqrt(n),
        b_out=jnp.zeros((n_out,), dtype),
        x0=jnp.zeros((n,), dtype),
        tau=float(tau),
    )
