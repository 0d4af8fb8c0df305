"""Pure helper: drive a Balloon–Windkessel model with a signal array and sample every TR."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ._balloon import BalloonState, BalloonWindkessel

__all__ = ["run_bold", "steps_per"]


def steps_per(period_ms: float, dt_ms: float, name: str = "tr") -> int:
    """Whole number of ``dt_ms`` steps in ``period_ms``; ValueError if it is not whole."""
    if not dt_ms > 0:
        raise ValueError(f"dt must be > 0 ms, got {dt_ms!r}")
    k = round(float(period_ms) / float(dt_ms))
    if k < 1 or abs(k * dt_ms - period_ms) > 1e-9 * max(1.0, abs(period_ms)):
        raise ValueError(
            f"{name}={period_ms!r} ms must be a whole multiple of dt={dt_ms!r} ms "
            f"(got {period_ms / dt_ms:g} steps); choose {name} = k * dt"
        )
    return k


def run_bold(
    model: BalloonWindkessel,
    signal,
    dt,
    tr,
    *,
    state: BalloonState | None = None,
    decimate: int = 1,
) -> tuple[BalloonState, jax.Array]:
    """Integrate ``model`` over ``signal`` and return the BOLD sampled at the end of each TR.

    Pure (jit-, vmap- and grad-able). The model is stepped once per ``decimate`` samples of
    ``signal`` with ``dt * decimate`` and the mean drive of those samples (a decimated clock;
    ``decimate=1`` steps at the signal's own ``dt``). The sample for TR ``k`` is the BOLD
    after time ``(k + 1) * tr``, so ``n_steps // (tr / dt)`` samples come back (a trailing
    partial TR is dropped).

    Args:
        model: the haemodynamic model (``n`` regions).
        signal: neural drive ``(n_steps, n)`` sampled every ``dt``.
        dt: signal sampling step (ms).
        tr: repetition time (ms), a whole multiple of ``dt * decimate``.
        state: starting haemodynamic state (default: rest).
        decimate: signal samples per haemodynamic step (>= 1).

    Returns:
        ``(final_state, bold)`` with ``bold`` of shape ``(n_tr, n)``.

    Example:
        >>> import jax.numpy as jnp, neurosim as ns
        >>> bw = ns.bold.BalloonWindkessel(2)
        >>> _, y = ns.bold.run_bold(bw, jnp.zeros((4000, 2)), 1.0, 2000.0, decimate=10)
        >>> y.shape
        (2, 2)
    """
    signal = jnp.asarray(signal)
    if signal.ndim != 2 or signal.shape[1] != model.n:
        raise ValueError(
            f"signal must have shape (n_steps, {model.n}) for {model.n} regions, "
            f"got {tuple(signal.shape)}"
        )
    if isinstance(decimate, bool) or not isinstance(decimate, int) or decimate < 1:
        raise ValueError(f"decimate must be an integer >= 1, got {decimate!r}")
    hdt = float(dt) * decimate
    per_tr = steps_per(float(tr), hdt)
    n_h = signal.shape[0] // decimate
    n_tr = n_h // per_tr
    if n_tr < 1:
        raise ValueError(
            f"signal holds {signal.shape[0]} steps of {dt} ms, shorter than one TR ({tr} ms)"
        )
    z = signal[: n_tr * per_tr * decimate].reshape(n_tr * per_tr, decimate, model.n).mean(1)
    z = z.reshape(n_tr, per_tr, model.n)
    st0 = model.init(None, hdt) if state is None else state

    def one_tr(st, z_tr):
        def body(s, zi):
            s, _ = model.step(s, zi, 0, hdt, None)
            return s, None

        st, _ = jax.lax.scan(body, st, z_tr)
        return st, model.bold(st)

    return jax.lax.scan(one_tr, st0, z)
