"""nwlib: Nadaraya-Watson kernel regression as attention pooling.

One small module per concept:

* :mod:`nwlib.kernels`  similarity kernels of the scaled distance, by name
* :mod:`nwlib.pooling`  attention weights (queries x keys) and the NW estimate
* :mod:`nwlib.data`     the seeded running example
* :mod:`nwlib.plotting` kernel plots, fits and attention heatmaps
* :mod:`nwlib.learn`    a torch module whose kernel width is learned
* :mod:`nwlib.loo`      the leave-one-out error (Minkowski, local linear, periodic)
* :mod:`nwlib.selection` width searches that minimize it (grid, Brent, gradient)
* :mod:`nwlib.search`   the width search on log h and its result, ``WidthChoice``
* :mod:`nwlib.rules`    Silverman's and Scott's rules of thumb
* :mod:`nwlib.scale`    banded 1-D evaluation: only the keys that carry weight
* :mod:`nwlib.torus`    Nadaraya-Watson with periodic coordinates
* :mod:`nwlib.rates`    measured rates of convergence
* :mod:`nwlib.powerlaw` power-law fits on log-log axes
* :mod:`nwlib.explorer` the notebook widget explorer of the width
* :mod:`nwlib.sphere`   Gaussian pooling on the unit sphere and dot-product attention
* :mod:`nwlib.parzen`   Parzen-window densities and NW classification
* :mod:`nwlib.checks`   self-checks for the exercise notebooks
* :mod:`nwlib.exercises` exercise notebooks generated from the solutions (command line)
* :mod:`nwlib.nbgrader_course` the throw-away nbgrader course and its configuration
* :mod:`nwlib.generation` an exercise generated from its solution, and its outline
* :mod:`nwlib.exercise_sync` exercises brought up to date, never over a learner's work
* :mod:`nwlib.notebook_run` executing a solution notebook with byte-stable outputs
* :mod:`nwlib.estimators` scikit-learn estimators (regression, classification)
* :mod:`nwlib.local_linear` local-linear pooling and its equivalent kernel
* :mod:`nwlib.random_features` random-feature maps and linear-time attention
* :mod:`nwlib.grading`  autograding submitted exercise notebooks with nbgrader
* :mod:`nwlib.autograding` the autograding run in a throw-away nbgrader course
* :mod:`nwlib.explore`  guards for the exercises' Explore cells

The computations behind :mod:`nwlib.pooling` (blocked and banded sums, the custom
autograd Function, worker threads) live in the private package ``nwlib._engine``.

The estimators are imported on first use (``from nwlib import
NadarayaWatsonRegressor``), so ``import nwlib`` does not load scikit-learn.
"""

from .data import running_example, true_function
from .kernels import KERNELS, Kernel, get_kernel
from .learn import LearnedWidthNW
from .pooling import attention_weights, log_scores, nadaraya_watson, scaled_sq_distances
from .selection import loo_error, scott_width, select_width_minimize, silverman_width

#: The names the chapters use most (``from nwlib import ...``); everything else lives
#: in its module (``nwlib.scale``, ``nwlib.multidim``, ...).
__all__ = [
    "nadaraya_watson",
    "attention_weights",
    "log_scores",
    "scaled_sq_distances",
    "KERNELS",
    "Kernel",
    "get_kernel",
    "running_example",
    "true_function",
    "LearnedWidthNW",
    "loo_error",
    "select_width_minimize",
    "silverman_width",
    "scott_width",
    "NadarayaWatsonRegressor",
    "NadarayaWatsonClassifier",
]
_LAZY = {
    "NadarayaWatsonRegressor": "estimators",
    "NadarayaWatsonClassifier": "estimators",
}


def __getattr__(name: str):
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'nwlib' has no attribute {name!r}")


def _version() -> str:
    """The installed distribution's version; in an uninstalled checkout, pyproject's."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nwlib")
    except PackageNotFoundError:
        import tomllib
        from pathlib import Path

        pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
        try:
            project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
        except (OSError, KeyError, tomllib.TOMLDecodeError):
            return "0+unknown"
        return project["version"] if project.get("name") == "nwlib" else "0+unknown"


#: The version of the package: ``importlib.metadata`` (pyproject.toml's ``version``).
__version__ = _version()
