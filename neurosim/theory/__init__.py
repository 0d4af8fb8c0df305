"""Closed-form predictions used to validate simulations (host-side numpy, float64)."""

from ._campbell import campbell_lif_exp_psc
from ._siegert import lif_diffusion_parameters, siegert_rate

__all__ = ["siegert_rate", "lif_diffusion_parameters", "campbell_lif_exp_psc"]
