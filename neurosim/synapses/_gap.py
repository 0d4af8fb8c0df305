r"""Electrical synapses (gap junctions): symmetric, continuous coupling of membrane potentials.

.. math::
    I_i = \sum_j g_{ij} (v_j - v_i), \qquad g_{ij} = g_{ji} \ge 0 \;(\mathrm{nS}),

delivered as a :class:`~neurosim.neurons.SynapticDrive` with ``conductance_i = sum_j g_ij``
and ``current_i = sum_j g_ij v_j`` (pA), so a neuron integrates ``I_i(v_i)`` implicitly in its
own potential while its neighbours' potentials are those at the start of the step (the
coupling is explicit across neurons: for two identical passive cells the difference mode is
damped by a factor in ``(-1, 1)`` per step for any ``g`` and ``dt``, i.e. unconditionally
stable, and first-order accurate). With symmetric ``g`` the currents sum to zero (charge is
conserved). Reference: Bennett & Zukin (2004), Neuron 41:495; e.g. Lewis & Rinzel (2003),
J. Comput. Neurosci. 14:283 for the model.

Caveat: neurons held by refractoriness (LIF-type) ignore their drive, so while one partner is
refractory the current it would receive is not applied (NEST's gap-junction models are
HH-type without clamping).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._init import AbstractInit
from .._validate import check_nonnegative
from ..connectivity import AbstractGenerator
from ..neurons import SynapticDrive
from ..ops import AbstractConnectivity

__all__ = ["GapJunctions"]


class GapJunctions(eqx.Module):
    """Symmetric gap-junction coupling among ``n`` neurons, stored as both directions of each pair.

    Build with :meth:`from_connectivity` (or ``NetworkBuilder.gap_junctions``). Entry ``k``
    couples ``post[k]`` to ``pre[k]`` with conductance ``g[k]`` (nS; a scalar when
    homogeneous); every pair appears twice, once per direction, with the same conductance.

    Example:
        >>> import jax, jax.numpy as jnp, numpy as np, neurosim as ns
        >>> gj = ns.synapses.GapJunctions.from_connectivity(np.array([[0, 1.0], [1.0, 0]]))
        >>> i_gap = gj.currents(jnp.array([-60.0, -70.0]))  # [-10, 10] pA
    """

    post: jax.Array  # int32 (m,)
    pre: jax.Array  # int32 (m,)
    g: jax.Array  # float, () or (m,)
    n: int = eqx.field(static=True)

    @classmethod
    def from_connectivity(cls, connectivity, n: int | None = None, weight=None, key=None):
        """Symmetric coupling from a generator, an operator or a dense matrix.

        Args:
            connectivity: a generator (``ns.connectivity.FixedProbability(p)``, sampled with
                ``weight`` and ``key``; the upper triangle ``i < j`` of the sample is mirrored,
                so each *pair* is coupled with the generator's statistics, e.g. probability
                ``p``), or a ready operator (``ns.ops.CSR``) or dense ``(n, n)`` array, which
                must be symmetric (the diagonal is ignored).
            n: number of neurons (required with a generator).
            weight: conductance per junction (nS): a number or an initializer (generators
                only; an operator carries its own).
            key: sampling key (generators only).
        """
        if isinstance(connectivity, AbstractGenerator):
            if n is None or weight is None:
                raise ValueError("gap junctions from a generator need n and weight (nS)")
            k = key if key is not None else jax.random.key(0)
            conn = connectivity.build(k, n, n, weight, same_population=True)
            pre, post, w = _coo(conn)
            upper = pre < post
            if not isinstance(weight, AbstractInit):
                w = np.full(int(upper.sum()), float(np.asarray(weight)))
                return cls._from_pairs(pre[upper], post[upper], w, n, homogeneous=True)
            return cls._from_pairs(pre[upper], post[upper], w[upper], n, homogeneous=False)
        if weight is not None:
            raise ValueError(
                "weight is given by the ready-made gap-junction matrix; do not pass weight="
            )
        if isinstance(connectivity, AbstractConnectivity):
            if connectivity.n_pre != connectivity.n_post:
                raise ValueError(
                    f"gap-junction matrix must be square, got ({connectivity.n_pre}, "
                    f"{connectivity.n_post})"
                )
            pre, post, w = _coo(connectivity)
            size = connectivity.n_pre
        else:
            dense = np.asarray(connectivity, dtype=np.float64)
            if dense.ndim != 2 or dense.shape[0] != dense.shape[1]:
                raise ValueError(f"gap-junction matrix must be square, got shape {dense.shape}")
            pre, post = np.nonzero(dense)
            w, size = dense[pre, post], dense.shape[0]
        if n is not None and n != size:
            raise ValueError(f"gap-junction matrix has size {size}, but the target has {n} neurons")
        w = np.broadcast_to(np.asarray(w, np.float64), pre.shape)
        off = pre != post
        pre, post, w = pre[off], post[off], w[off]
        _check_symmetric(pre, post, w, size)
        upper = pre < post
        return cls._from_pairs(pre[upper], post[upper], w[upper], size, False)

    @classmethod
    def _from_pairs(cls, i, j, w, n: int, homogeneous: bool):
        """Both directions of the pairs ``(i[k], j[k])`` with conductances ``w[k]``."""
        w = np.asarray(w, np.float64)
        check_nonnegative("gap-junction conductance", w, "nS")
        pre = np.concatenate([i, j]).astype(np.int32)
        post = np.concatenate([j, i]).astype(np.int32)
        dtype = jnp.result_type(float)
        if homogeneous and w.size:
            g = jnp.asarray(w[0], dtype)
        else:
            g = jnp.asarray(np.concatenate([w, w]), dtype)
        return cls(post=jnp.asarray(post), pre=jnp.asarray(pre), g=g, n=int(n))

    @property
    def n_pairs(self) -> int:
        """Number of coupled pairs."""
        return int(self.pre.shape[0]) // 2

    def drive(self, v) -> SynapticDrive:
        """Drive of the gap junctions at potentials ``v`` (mV, shape ``(n,)``): ``(sum g, g v)``."""
        g = jnp.broadcast_to(self.g, self.pre.shape).astype(v.dtype)
        conductance = jax.ops.segment_sum(g, self.post, num_segments=self.n)
        current = jax.ops.segment_sum(g * v[self.pre], self.post, num_segments=self.n)
        return SynapticDrive(conductance, current)

    def currents(self, v):
        """Gap-junction currents ``I_i = sum_j g_ij (v_j - v_i)`` (pA) at potentials ``v`` (mV)."""
        return self.drive(v).at(v)

    def todense(self):
        """The symmetric conductance matrix ``(n, n)`` (nS)."""
        g = jnp.broadcast_to(self.g, self.pre.shape)
        return jnp.zeros((self.n, self.n), g.dtype).at[self.post, self.pre].add(g)


def _coo(conn):
    """``(pre, post, weights)`` numpy arrays of an operator's synapses."""
    if hasattr(conn, "row_ids"):
        pre = np.asarray(conn.row_ids())
        post = np.asarray(conn.indices[: conn.nnz])
        w = np.asarray(conn.synapse_weights())
        return pre.astype(np.int64), post.astype(np.int64), w
    dense = np.asarray(conn.todense())
    pre, post = np.nonzero(dense)
    return pre, post, dense[pre, post]


def _check_symmetric(pre, post, w, n: int) -> None:
    fwd = np.lexsort((post, pre))
    bwd = np.lexsort((pre, post))
    ok = (
        np.array_equal(pre[fwd], post[bwd])
        and np.array_equal(post[fwd], pre[bwd])
        and np.allclose(w[fwd], w[bwd], rtol=1e-6, atol=0.0)
    )
    if not ok:
        raise ValueError(
            "gap-junction matrix must be symmetric (g_ij == g_ji); symmetrise it, e.g. "
            "(W + W.T) / 2, or pass a generator, whose upper triangle is mirrored"
        )
