"""Built-in networks: the Brette et al. (2007) benchmarks COBA, CUBA and COBAHH."""

from ._brette import coba, cobahh, cuba

MODELS = {"coba": coba, "cuba": cuba, "cobahh": cobahh}

__all__ = ["coba", "cuba", "cobahh", "MODELS"]
