"""Shared fixtures. Networks are tiny and built once per session: compilation dominates."""

import os

os.environ.setdefault(
    "XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
)

import jax  # noqa: E402
import pytest  # noqa: E402

import neurosim as ns  # noqa: E402


@pytest.fixture(scope="session")
def small_coba():
    """An 80-neuron COBA network (in-degree 8) — active, tiny, fast to compile."""
    return ns.models.coba(n=80, key=jax.random.key(0), in_degree=8.0)


def single_lif_network(**lif_kwargs):
    """One population 'N' of LIF neurons and nothing else."""
    b = ns.NetworkBuilder(key=jax.random.key(0))
    n = lif_kwargs.pop("n", 1)
    b.add_population("N", ns.neurons.LIF(n, **lif_kwargs))
    return b.build()
