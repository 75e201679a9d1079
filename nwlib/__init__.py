"""nwlib: Nadaraya-Watson kernel regression as attention pooling.

One small module per concept:

* :mod:`nwlib.kernels`  similarity kernels of the scaled distance, by name
* :mod:`nwlib.pooling`  attention weights (queries x keys) and the NW estimate
* :mod:`nwlib.data`     the seeded running example
* :mod:`nwlib.plotting` kernel plots, fits and attention heatmaps
* :mod:`nwlib.learn`    a torch module whose kernel width is learned
* :mod:`nwlib.selection` leave-one-out scores, rules of thumb, width selectors
* :mod:`nwlib.scale`    fast, memory-bounded leave-one-out width selection
* :mod:`nwlib.explorer` the notebook widget explorer of the width
* :mod:`nwlib.sphere`   Gaussian pooling on the unit sphere and dot-product attention
* :mod:`nwlib.parzen`   Parzen-window densities and NW classification
* :mod:`nwlib.checks`   self-checks for the exercise notebooks
* :mod:`nwlib.exercises` exercise notebooks generated from the solutions
"""
from .kernels import KERNELS, Kernel, get_kernel
from .pooling import attention_weights, nadaraya_watson

__all__ = ["KERNELS", "Kernel", "get_kernel", "attention_weights", "nadaraya_watson"]
__version__ = "0.1.0"
