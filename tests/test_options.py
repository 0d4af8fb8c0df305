"""String options are typing.Literal types, checked where they are given (one checker each)."""

import typing

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import neurosim as ns
from neurosim._driver import OnFault, check_on_fault
from neurosim._validate import check_literal


def test_backend_literal_and_checker():
    assert ns.ops.BACKENDS == typing.get_args(ns.ops.Backend)
    for b in ns.ops.BACKENDS:
        assert ns.ops.check_backend(b) == b
    with pytest.raises(ValueError, match=r"backend must be one of 'auto', .*got 'fast'"):
        ns.ops.check_backend("fast")
    with pytest.raises(TypeError, match="backend must be one of"):
        ns.ops.check_backend(None)
    conn = ns.connectivity.from_dense(np.eye(3, dtype=np.float32))
    with pytest.raises(ValueError, match="backend must be one of"):
        ns.ops.event_matvec(conn, jnp.zeros(3), backend="Loop")


def test_on_fault_literal_and_checker():
    assert typing.get_args(OnFault) == ("raise", "return")
    assert check_on_fault("return") == "return"
    with pytest.raises(ValueError, match="on_fault must be one of 'raise', 'return', got 'warn'"):
        check_on_fault("warn")
    with pytest.raises(TypeError, match="on_fault"):
        check_on_fault(True)


def test_drivers_refuse_a_bad_on_fault_before_running():
    b = ns.NetworkBuilder()
    b.add_population("E", ns.neurons.LIF(2))
    net = b.build()
    with pytest.raises(ValueError, match="on_fault must be one of"):
        ns.simulate(net, 1.0, 0.1, key=jax.random.key(1), on_fault="ignore")
    m = ns.rates.ReducedWongWangEI(1)
    with pytest.raises(ValueError, match="on_fault must be one of"):
        ns.rates.simulate(m, None, 1.0, 0.1, key=jax.random.key(0), on_fault="ignore")


def test_check_literal_needs_a_literal_type():
    with pytest.raises(TypeError, match="Literal"):
        check_literal("x", "a", str)
