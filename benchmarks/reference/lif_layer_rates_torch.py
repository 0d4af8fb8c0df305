"""Spike fraction of the PyTorch peers' Linear+LIF layer, built exactly as in
the anchor script lif_layer_torch.py (same seed, same input). Prints one number: the mean of the
output spike tensor (spikes per neuron per step). Usage: python lif_layer_rates_torch.py LIB N"""
import sys

import torch

lib, n = sys.argv[1], int(sys.argv[2])
B, T = 16, 500
torch.manual_seed(0)
torch.set_num_threads(2)
x = torch.randn(T, B, n)
lin = torch.nn.Linear(n, n)
with torch.no_grad():
    if lib == "snntorch":
        import snntorch as snn

        lif = snn.Leaky(beta=0.9)
        mem = lif.init_leaky()
        total = 0.0
        for t in range(T):
            spk, mem = lif(lin(x[t]), mem)
            total += float(spk.sum())
    else:
        import norse.torch as norse

        z, _ = norse.LIF()(lin(x))
        total = float(z.sum())
print(total / (T * B * n))
