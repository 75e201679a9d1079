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
* :mod:`nwlib.estimators` scikit-learn estimators (regression, classification)

The estimators are imported on first use (``from nwlib import
NadarayaWatsonRegressor``), so ``import nwlib`` does not load scikit-learn.
"""
from .kernels import KERNELS, Kernel, get_kernel
from .pooling import attention_weights, nadaraya_watson

__all__ = ["KERNELS", "Kernel", "get_kernel", "attention_weights", "nadaraya_watson",
           "NadarayaWatsonRegressor", "NadarayaWatsonClassifier"]
_LAZY = {"NadarayaWatsonRegressor": "estimators",
         "NadarayaWatsonClassifier": "estimators"}


def __getattr__(name: str):
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'nwlib' has no attribute {name!r}")
__version__ = "0.1.0"
