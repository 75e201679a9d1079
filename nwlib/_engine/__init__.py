"""nwlib's private engine: how the definitions in :mod:`nwlib.pooling` run fast.

Nothing here is public. The modules above (pooling, scale, multidim, rates, ...)
import only the names listed in ``__all__`` below, never a module's underscore
names (``tests/test_engine.py`` checks it). The engine imports nothing from the
modules above it except :mod:`nwlib._validate` and :mod:`nwlib.kernels`.

Internal API
------------
prep
    ``resolve_dtype``, ``work_dtype``, ``as_result`` (dtypes); ``offset``,
    ``centre_for``, ``centre_values``, ``uncentre`` (remove and restore an offset
    that dominates the spread before a cast to a lower precision); ``prepare``
    (array-likes to (n, d) queries, keys and a checked width); ``sq_dist``
    (squared scaled distances, the dense definition's first line); ``ordinary``,
    ``shifted_sq_dist`` (r^2 minus each row's minimum, for widths outside
    [1e-10, 1e10]); ``check_exclude_self``, ``self_mask`` (the leave-one-out
    diagonal), ``check_on_empty``, ``check_p`` (a Minkowski order),
    ``report_empty``, ``softmax_rows``, ``warn_at_caller`` (a warning of an inner
    call issued again at the user's line).
blocks
    ``choose_block_size`` (the one block-size rule of the dense path),
    ``DEFAULT_MEMORY_BUDGET``, ``BLOCK_ELEMENTS``, ``is_gaussian``, ``exp_floor``,
    ``pow2_scaled``, ``fast_block``, ``blocked_sums`` (with the custom autograd
    Function for a scalar Gaussian width).
threads
    ``worker_count``, ``single_threaded``, ``run_blocks`` (blocks shared among threads).
banded
    ``truncation_radius``, ``banded_estimate`` (1-D, sorted keys, only the slab of
    keys that carry weight).
estimate
    ``estimate``: validated tensors in, the Nadaraya-Watson estimate out.
"""

from .banded import banded_estimate, truncation_radius
from .blocks import (
    BLOCK_ELEMENTS,
    DEFAULT_MEMORY_BUDGET,
    blocked_sums,
    choose_block_size,
    exp_floor,
    fast_block,
    is_gaussian,
    pow2_scaled,
)
from .estimate import estimate
from .prep import (
    as_result,
    centre_for,
    centre_values,
    check_exclude_self,
    check_on_empty,
    check_p,
    offset,
    ordinary,
    prepare,
    report_empty,
    resolve_dtype,
    self_mask,
    shifted_sq_dist,
    softmax_rows,
    sq_dist,
    uncentre,
    warn_at_caller,
    work_dtype,
)
from .threads import run_blocks, single_threaded, worker_count

__all__ = [
    "BLOCK_ELEMENTS",
    "DEFAULT_MEMORY_BUDGET",
    "as_result",
    "banded_estimate",
    "blocked_sums",
    "centre_for",
    "centre_values",
    "check_exclude_self",
    "check_on_empty",
    "check_p",
    "choose_block_size",
    "estimate",
    "exp_floor",
    "fast_block",
    "is_gaussian",
    "offset",
    "ordinary",
    "pow2_scaled",
    "prepare",
    "report_empty",
    "resolve_dtype",
    "run_blocks",
    "self_mask",
    "shifted_sq_dist",
    "single_threaded",
    "softmax_rows",
    "sq_dist",
    "truncation_radius",
    "uncentre",
    "warn_at_caller",
    "work_dtype",
    "worker_count",
]
