"""Training benchmark: one Linear + LIF layer (Open Neuromorphic SNN library benchmark, CPU).

    python benchmarks/lif_layer.py                       # n = 1024, 4096; neurosim, snnTorch, Norse
    python benchmarks/lif_layer.py --sizes 1024 --peers snntorch

Definition (``shared/BENCHMARKS.md``): input ``x ~ randn`` of shape (T = 500, B = 16, n) ->
``Linear(n, n)`` -> LIF; time the forward pass, and forward + backward of ``sum(output)``
(gradient w.r.t. the Linear layer's weight and bias), median of 3 after a warm-up, 2 threads.

* neurosim: the matmul outside the recurrence, one GEMM per block of ``--chunk`` steps
  (default 25 steps = 400 rows; ``--chunk 500``: one GEMM for all ``T*B`` rows), then a
  ``lax.scan`` of :class:`neurosim.neurons.LIF` steps over the ``(B, n)`` state with the
  surrogate (fast sigmoid) spike derivative, BPTT by ``jax.grad`` through the scan. The LIF is
  configured to be snnTorch's ``Leaky(beta=0.9)``: dt = 1 ms, ``tau_m = -1/ln 0.9`` ms,
  ``E_L = 0``, ``v_th = 1``, ``v_reset = 0``, no refractory period, ``g_L = 1 - beta`` nS so that
  ``v <- beta v + I`` (exponential Euler is exact here). snnTorch resets by subtraction, Norse
  (``norse.torch.LIF``, default parameters) has a current-based synapse: the rates differ and
  are printed beside the timings.
* peers: ``shared/anchors/lif_layer_torch.py snntorch|norse N`` run unchanged with the PyTorch
  venv given by ``--torch-python`` (default ``$NEUROSIM_TORCH_PYTHON`` or
  ``/tmp/venv-torch/bin/python``: ``python -m venv /tmp/venv-torch &&
  /tmp/venv-torch/bin/pip install torch==2.13.0 snntorch norse``). Their spike fraction is
  computed by ``benchmarks/reference/lif_layer_rates_torch.py`` (same model and seed).

Every case runs in its own process; peak memory is that process's peak resident set size
(``wait4``), so it includes the framework's own footprint (JAX or PyTorch loaded, ~0.2-0.4 GB).
For neurosim the compiled programs' temporary buffers (XLA's memory analysis) are printed too.
The last stdout line is one JSON object with all rows.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import re
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _find_anchors() -> pathlib.Path:
    if "NEUROSIM_ANCHORS" in os.environ:
        return pathlib.Path(os.environ["NEUROSIM_ANCHORS"])
    for d in ROOT.parents:  # shared/ sits beside the repository (or a worktree's parent)
        if (d / "shared" / "anchors").is_dir():
            return d / "shared" / "anchors"
    return ROOT.parent / "shared" / "anchors"


ANCHORS = _find_anchors()
THREADS = 2
ENV = {
    **os.environ,
    "XLA_FLAGS": f"--xla_cpu_multi_thread_eigen=true intra_op_parallelism_threads={THREADS}",
    "OMP_NUM_THREADS": str(THREADS),
    "MKL_NUM_THREADS": str(THREADS),
    "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
}
T, B, DT, BETA = 500, 16, 1.0, 0.9


# -- the neurosim layer (runs in the worker process) ---------------------------------------------
def make_layer(n: int, chunk: int = 25):
    """``(forward, loss)`` of Linear(n, n) -> LIF over ``x`` of shape ``(T, B, n)``.

    The input is processed in blocks of ``chunk`` time steps: one GEMM per block (``chunk * B``
    rows), then the LIF recurrence over the block. ``chunk = T`` is a single GEMM over all
    steps; blocks of ~25 steps keep the block's currents in cache (measured ~25 % faster).
    """
    if T % chunk:
        raise ValueError(f"chunk must divide T = {T}, got {chunk}")
    import jax
    import jax.numpy as jnp
    import numpy as np

    import neurosim as ns

    lif = ns.neurons.LIF(
        n,
        tau_m=-DT / float(np.log(BETA)),
        e_l=0.0,
        v_th=1.0,
        v_reset=0.0,
        t_ref=0.0,
        g_l=1.0 - BETA,
        v_init=0.0,
        integrator=ns.integrators.Exact(),
    )
    no_synapses = ns.neurons.SynapticDrive(0.0, 0.0, 0.0)

    def forward(params, x):
        w, b = params
        state = {"v": jnp.zeros((B, n)), "refractory": jnp.zeros((B, n), jnp.int32)}

        def step(st, i_t):
            return lif.step(st, no_synapses.with_current(i_t), 0, DT, None)

        def block(st, x_block):
            # One GEMM for all rows of the block (chunk * B rows), outside the recurrence.
            current = jnp.einsum("tbi,oi->tbo", x_block, w) + b
            return jax.lax.scan(step, st, current)

        _, spikes = jax.lax.scan(block, state, x.reshape(T // chunk, chunk, B, n))
        return spikes.reshape(T, B, n)

    def loss(params, x):
        return jnp.sum(forward(params, x))

    return forward, loss


def _median_time(f, reps=3):
    f()  # warm-up
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def worker(n: int, chunk: int) -> dict:
    """Time the neurosim layer at size ``n`` in this process; returns a result row."""
    import jax
    import numpy as np

    forward, loss = make_layer(n, chunk)
    kx, kw, kb = jax.random.split(jax.random.key(0), 3)
    x = jax.random.normal(kx, (T, B, n))
    bound = 1.0 / np.sqrt(n)  # torch.nn.Linear's default initialisation
    params = (
        jax.random.uniform(kw, (n, n), minval=-bound, maxval=bound),
        jax.random.uniform(kb, (n,), minval=-bound, maxval=bound),
    )
    fwd = jax.jit(lambda p, x: forward(p, x).sum())
    fwdbwd = jax.jit(jax.grad(loss))
    row = {"sim": "neurosim", "n": n, "chunk": chunk}
    for name, f in (("fwd", fwd), ("fwdbwd", fwdbwd)):
        t0 = time.perf_counter()
        compiled = f.lower(params, x).compile()
        row[f"compile_{name}_s"] = round(time.perf_counter() - t0, 2)
        mem = compiled.memory_analysis()
        if mem is not None:
            row[f"xla_temp_{name}_mb"] = round(mem.temp_size_in_bytes / 2**20, 1)
        row[f"{name}_s"] = round(
            _median_time(lambda f=compiled: jax.block_until_ready(f(params, x))), 3
        )
    row["spike_fraction"] = round(float(fwd(params, x)) / (T * B * n), 4)
    return row


# -- the driver ---------------------------------------------------------------------------------
def _peak_child(cmd, timeout):
    """Run ``cmd`` and return (stdout, stderr, rc, peak RSS MB) using ``os.wait4``."""
    import tempfile

    with tempfile.TemporaryFile("w+") as fo, tempfile.TemporaryFile("w+") as fe:
        p = subprocess.Popen(cmd, stdout=fo, stderr=fe, text=True, env=ENV)
        t0 = time.monotonic()
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - t0 > timeout:
                p.kill()
                pid, status, ru = os.wait4(p.pid, 0)
                break
            time.sleep(0.05)
        p.returncode = os.waitstatus_to_exitcode(status)
        fo.seek(0)
        fe.seek(0)
        return fo.read(), fe.read(), p.returncode, ru.ru_maxrss / 1024.0


def neurosim_case(n: int, chunk: int, timeout: float) -> dict:
    cmd = [sys.executable, __file__, "--worker", str(n), "--chunk", str(chunk)]
    out, err, rc, peak = _peak_child(cmd, timeout)
    if rc != 0:
        return {"sim": "neurosim", "n": n, "error": (err or out).strip().splitlines()[-1:]}
    row = json.loads(out.strip().splitlines()[-1])
    row["peak_rss_mb"] = round(peak)
    return row


_PEER = re.compile(r"fwd=(\d+)ms fwd\+bwd=(\d+)ms")


def peer_case(lib: str, n: int, torch_python: str, timeout: float, rates: bool) -> dict:
    script = ANCHORS / "lif_layer_torch.py"
    out, err, rc, peak = _peak_child([torch_python, str(script), lib, str(n)], timeout)
    m = _PEER.search(out or "")
    if rc != 0 or m is None:
        return {"sim": lib, "n": n, "error": (err or out).strip().splitlines()[-1:]}
    row = {
        "sim": lib,
        "n": n,
        "fwd_s": int(m.group(1)) / 1e3,
        "fwdbwd_s": int(m.group(2)) / 1e3,
        "peak_rss_mb": round(peak),
    }
    if rates:
        rate_script = ROOT / "benchmarks" / "reference" / "lif_layer_rates_torch.py"
        out, err, rc, _ = _peak_child([torch_python, str(rate_script), lib, str(n)], timeout)
        if rc == 0:
            row["spike_fraction"] = float(out.strip().splitlines()[-1])
    return row


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1024,4096")
    ap.add_argument("--peers", default="snntorch,norse", help="comma list; '' for none")
    ap.add_argument(
        "--torch-python",
        default=os.environ.get("NEUROSIM_TORCH_PYTHON", "/tmp/venv-torch/bin/python"),
    )
    ap.add_argument("--no-rates", action="store_true", help="skip the peers' spike fraction")
    ap.add_argument("--timeout", type=float, default=1800.0)
    ap.add_argument("--chunk", type=int, default=25, help="time steps per GEMM block (T: one)")
    ap.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.chunk)))
        return
    peers = [p for p in args.peers.split(",") if p]
    if peers and not pathlib.Path(args.torch_python).exists():
        sys.exit(f"--torch-python {args.torch_python} not found (see the docstring to create it)")
    rows = []
    print(f"{'n':>6} {'simulator':<10} {'fwd s':>8} {'fwd+bwd s':>10} ", end="")
    print(f"{'peak RSS MB':>12} {'spikes':>8}")
    for n in (int(s) for s in args.sizes.split(",")):
        cases = [("neurosim", lambda n=n: neurosim_case(n, args.chunk, args.timeout))]
        cases += [
            (
                p,
                lambda p=p, n=n: peer_case(
                    p, n, args.torch_python, args.timeout, not args.no_rates
                ),
            )
            for p in peers
        ]
        for _, case in cases:
            row = case()
            rows.append(row)
            if "error" in row:
                print(f"{n:>6} {row['sim']:<10} error: {row['error']}")
                continue
            sf = row.get("spike_fraction")
            print(
                f"{n:>6} {row['sim']:<10} {row['fwd_s']:>8.3f} {row['fwdbwd_s']:>10.3f} "
                f"{row['peak_rss_mb']:>12} {'' if sf is None else f'{sf:.3f}':>8}",
                flush=True,
            )
    print(json.dumps({"rows": rows, "threads": THREADS, "T": T, "B": B}))


if __name__ == "__main__":
    main()
