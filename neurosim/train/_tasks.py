"""Task generators for training spiking networks (no downloads: all made here, seeded).

Each returns NumPy arrays (put them on the device once, see :func:`neurosim.train.fit`).
"""

from __future__ import annotations

import math

import numpy as np

from .._validate import check_size

__all__ = ["randman", "yinyang", "digits", "store_recall", "flip_flop"]


def _rng(seed) -> np.random.Generator:
    return np.random.default_rng(seed)


def randman(
    seed=0,
    *,
    n_classes: int = 10,
    n_units: int = 20,
    n_steps: int = 100,
    samples_per_class: int = 1000,
    dim: int = 1,
    alpha: float = 2.0,
    precision: float = 1e-3,
    t_frac: float = 1.0,
):
    """Random-manifold spike-timing task ("randman", Zenke & Vogels 2021, *Neural Comput.* 33:899).

    Each class is a random smooth ``dim``-dimensional manifold embedded in ``n_units``
    dimensions. Unit ``i`` of class ``c`` is the smooth random function

    ``f_ci(x) = prod_d sum_{k=1}^{K} k^(-alpha) a_cidk sin(2 pi (k b_cidk x_d + phi_cidk))``

    of the intrinsic coordinates ``x`` in [0, 1]^dim, with ``a, b, phi ~ U(0, 1)`` and
    ``K = ceil(precision^(-1/alpha))`` (higher ``alpha``: smoother, easier). Each unit's values
    are rescaled to [0, 1] over the class's samples; a sample is a random ``x``, and every input
    unit fires exactly one spike, at step ``floor(f * t_frac * (n_steps - 1))``. The classes
    overlap in firing statistics and differ only in spike timing.

    Returns:
        ``(spikes, labels)``: ``(N, n_steps, n_units)`` uint8 and ``(N,)`` int32, shuffled,
        ``N = n_classes * samples_per_class``.

    Example:
        >>> import neurosim as ns
        >>> x, y = ns.train.randman(0, n_classes=3, samples_per_class=10)
        >>> x.shape, y.shape
        ((30, 100, 20), (30,))
    """
    for name, v in (("n_classes", n_classes), ("n_units", n_units), ("n_steps", n_steps)):
        check_size(name, v)
    check_size("samples_per_class", samples_per_class)
    check_size("dim", dim)
    if not alpha > 0:
        raise ValueError(f"alpha must be > 0, got {alpha}")
    rng = _rng(seed)
    n_freq = int(math.ceil(precision ** (-1.0 / alpha)))
    k = np.arange(1, n_freq + 1)
    spect = k ** (-float(alpha))
    xs, ys = [], []
    for c in range(n_classes):
        a, b, phi = rng.uniform(size=(3, n_units, dim, n_freq))
        x = rng.uniform(size=(samples_per_class, dim))
        arg = 2 * np.pi * (k * b[None] * x[:, None, :, None] + phi[None])  # (S, U, D, K)
        f = np.prod(np.sum(spect * a[None] * np.sin(arg), axis=-1), axis=-1)  # (S, U)
        lo, hi = f.min(0, keepdims=True), f.max(0, keepdims=True)
        f = (f - lo) / np.maximum(hi - lo, 1e-12)
        steps = np.floor(f * t_frac * (n_steps - 1)).astype(np.int64)
        spikes = np.zeros((samples_per_class, n_steps, n_units), np.uint8)
        s_idx, u_idx = np.meshgrid(np.arange(samples_per_class), np.arange(n_units), indexing="ij")
        spikes[s_idx, steps, u_idx] = 1
        xs.append(spikes)
        ys.append(np.full(samples_per_class, c, np.int32))
    x, y = np.concatenate(xs), np.concatenate(ys)
    perm = rng.permutation(len(y))
    return x[perm], y[perm]


def _yinyang_class(x, y, r_big, r_small):
    d_left = np.hypot(x - 0.5 * r_big, y - r_big)
    d_right = np.hypot(x - 1.5 * r_big, y - r_big)
    dot = (d_left < r_small) | (d_right < r_small)
    yin = (d_left <= 0.5 * r_big) | ((y > r_big) & (d_right > 0.5 * r_big))
    return np.where(dot, 2, np.where(yin, 0, 1))


def yinyang(seed=0, n: int = 5000, *, r_big: float = 0.5, r_small: float = 0.1):
    """The Yin-Yang classification data set (Kriener, Göltz et al. 2022, *ICONS*).

    Points ``(x, y)`` uniform in the disk of radius ``r_big`` centred at ``(r_big, r_big)``,
    labelled yin (0), yang (1) or dot (2) by the yin-yang symbol: dots are the two disks of
    radius ``r_small`` at ``(r_big/2, r_big)`` and ``(3 r_big/2, r_big)``; yin is the upper
    half of the big disk minus the right half-size disk, plus the left half-size disk. Classes
    are balanced (each sample draws its class, then a point of that class by rejection), as in
    the original. Inputs are ``(x, y, 1 - x, 1 - y)`` (with ``r_big = 0.5``, in [0, 1]); a
    bias input is left to the encoder. The published splits are 5000 train / 1000 validation /
    1000 test samples; use different seeds for each.

    Returns:
        ``(features, labels)``: ``(n, 4)`` float32 and ``(n,)`` int32.

    Example:
        >>> import neurosim as ns
        >>> x, y = ns.train.yinyang(0, 300)
        >>> x.shape
        (300, 4)
    """
    check_size("n", n)
    rng = _rng(seed)
    target = rng.integers(0, 3, size=n)
    pts = np.empty((n, 2))
    todo = np.arange(n)
    while todo.size:
        m = 4 * todo.size + 16
        cand = rng.uniform(0.0, 2 * r_big, size=(m, 2))
        inside = np.hypot(cand[:, 0] - r_big, cand[:, 1] - r_big) <= r_big
        cand = cand[inside]
        cls = _yinyang_class(cand[:, 0], cand[:, 1], r_big, r_small)
        for c in range(3):
            need = todo[target[todo] == c]
            have = cand[cls == c]
            k = min(len(need), len(have))
            pts[need[:k]] = have[:k]
            todo = np.setdiff1d(todo, need[:k], assume_unique=True)
    feats = np.concatenate([pts, 1.0 - pts], axis=1).astype(np.float32)
    return feats, target.astype(np.int32)


def digits(seed=0, test_fraction: float = 0.2):
    """The scikit-learn 8x8 handwritten digits (1797 samples, 10 classes), split and scaled.

    Needs scikit-learn (which ships the data; no download). Pixel values 0-16 are scaled
    to [0, 1] for a rate code (e.g. :func:`rate_bernoulli`). The split is stratified and
    seeded.

    Returns:
        ``(x_train, y_train, x_test, y_test)``: float32 ``(N, 64)`` and int32 ``(N,)``.
    """
    try:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(
            "ns.train.digits needs scikit-learn: pip install scikit-learn (or neurosim[train])"
        ) from e
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    d = load_digits()
    x = (d.data / 16.0).astype(np.float32)
    y = d.target.astype(np.int32)
    x_tr, x_te, y_tr, y_te = train_test_split(
        x, y, test_size=test_fraction, stratify=y, random_state=int(seed)
    )
    return x_tr, y_tr, x_te, y_te


def store_recall(
    seed=0,
    n_samples: int = 256,
    *,
    n_periods: int = 6,
    period_steps: int = 50,
    channel_size: int = 10,
    rate_hz: float = 100.0,
    noise_hz: float = 5.0,
    dt: float = 1.0,
):
    """Store-recall working-memory task (Bellec et al. 2018, *NeurIPS*, LSNN).

    Four input groups of ``channel_size`` Poisson neurons: "store", "recall", "value 0" and
    "value 1". In every period of ``period_steps`` steps a random bit is shown (its value
    group fires at ``rate_hz``); in one period the store group fires too, in a later one the
    recall group. The network must output the bit shown at the store cue during the recall
    period. All neurons fire at ``noise_hz`` otherwise.

    Returns:
        ``(spikes, labels, mask)``: ``(N, T, 4 channel_size)`` uint8, the stored bit ``(N,)``
        int32, and ``(N, T)`` float32 marking the recall period (where the loss applies),
        with ``T = n_periods * period_steps``.
    """
    check_size("n_samples", n_samples)
    check_size("period_steps", period_steps)
    if n_periods < 2:
        raise ValueError(f"n_periods must be >= 2 (a store and a later recall), got {n_periods}")
    rng = _rng(seed)
    T = n_periods * period_steps
    bits = rng.integers(0, 2, size=(n_samples, n_periods))
    store = rng.integers(0, n_periods - 1, size=n_samples)
    recall = store + 1 + (rng.uniform(size=n_samples) * (n_periods - 1 - store)).astype(int)
    period = np.arange(T) // period_steps  # (T,)
    rows = np.arange(n_samples)[:, None]
    active = np.zeros((n_samples, T, 4), bool)
    active[:, :, 0] = period[None] == store[:, None]
    active[:, :, 1] = period[None] == recall[:, None]
    shown = bits[rows, period[None]]  # (N, T)
    active[:, :, 2] = shown == 0
    active[:, :, 3] = shown == 1
    rates = np.where(np.repeat(active, channel_size, axis=2), rate_hz, noise_hz)
    spikes = (rng.uniform(size=rates.shape) < rates * dt / 1000.0).astype(np.uint8)
    labels = bits[np.arange(n_samples), store].astype(np.int32)
    mask = active[:, :, 1].astype(np.float32)
    return spikes, labels, mask


def flip_flop(
    seed=0,
    n_samples: int = 256,
    *,
    n_bits: int = 3,
    n_steps: int = 200,
    p_pulse: float = 0.02,
    pulse_steps: int = 5,
):
    """The n-bit flip-flop memory task (Sussillo & Barak 2013, *Neural Comput.* 25:626).

    Each of ``n_bits`` input channels is 0 except for pulses of ``+1`` or ``-1`` (random sign)
    lasting ``pulse_steps`` steps; a pulse starts at each step with probability ``p_pulse``
    when none is running on that channel, and every channel starts with one at ``t = 0`` so
    that the target is defined throughout. Output channel ``k`` must hold the sign of the last
    pulse on input ``k`` (from its first step until the next pulse): ``2^n_bits`` memories.

    Returns:
        ``(u, y)``: inputs and targets, each ``(n_samples, n_steps, n_bits)`` float32.

    Example:
        >>> import neurosim as ns
        >>> u, y = ns.train.flip_flop(0, 4, n_bits=2, n_steps=50)
        >>> u.shape, sorted(set(y.ravel().tolist()))
        ((4, 50, 2), [-1.0, 1.0])
    """
    n_samples, n_bits = check_size("n_samples", n_samples), check_size("n_bits", n_bits)
    n_steps, pulse_steps = check_size("n_steps", n_steps), check_size("pulse_steps", pulse_steps)
    if not 0.0 <= p_pulse <= 1.0:
        raise ValueError(f"p_pulse must be a probability in [0, 1], got {p_pulse}")
    rng = _rng(seed)
    u = np.zeros((n_samples, n_steps, n_bits), np.float32)
    y = np.zeros_like(u)
    left = np.zeros((n_samples, n_bits), int)  # steps left of the running pulse
    sign = np.zeros((n_samples, n_bits), np.float32)
    held = np.zeros((n_samples, n_bits), np.float32)
    for t in range(n_steps):
        start = (left == 0) & ((rng.uniform(size=left.shape) < p_pulse) | (t == 0))
        new_sign = np.where(rng.uniform(size=left.shape) < 0.5, -1.0, 1.0)
        sign = np.where(start, new_sign, sign)
        left = np.where(start, pulse_steps, left)
        held = np.where(start, sign, held)
        u[:, t] = np.where(left > 0, sign, 0.0)
        y[:, t] = held
        left = np.maximum(left - 1, 0)
    return u, y
