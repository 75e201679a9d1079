"""Speed crossover of linear-time pooling (random features) against exact pooling.

Run from the repository root (not part of the unit tests; a few minutes)::

    .venv/bin/python benchmarks/bench_random_features.py
    .venv/bin/python benchmarks/bench_random_features.py --sizes 1000 10000 --repeat 5

Self-attention on the unit sphere: n queries = n keys in d = 16, width h = 2
(temperature 4 = sqrt(d)), float32, one torch thread (``--threads``). Exact:
``nwlib.nadaraya_watson`` (blocked, every key), timed on
``min(n, max(20, pairs // n))`` queries and scaled to n queries (its blocks of queries
are independent, so its time is proportional to their number). Linear:
``nwlib.random_features.linear_attention`` with D positive features on all n queries.
Each time is the best of ``--repeat`` runs. The RMS difference between the two
estimates on the timed queries is stored too. Results go to ``--out`` (default
benchmarks/results/bench_random_features.json) with the date, the machine and its
load.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import time
from functools import partial
from pathlib import Path

import numpy as np
import torch

from nwlib import nadaraya_watson
from nwlib.random_features import linear_attention, positive_features

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "bench_random_features.json"


def best_of(fn, repeat: int) -> tuple[float, object]:
    """Smallest wall time of ``repeat`` calls (seconds) and the last result."""
    best, out = math.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=[100, 300, 1_000, 3_000, 10_000, 30_000, 100_000, 300_000, 1_000_000],
    )
    ap.add_argument("--features", type=int, default=256)
    ap.add_argument("--d", type=int, default=16)
    ap.add_argument("--width", type=float, default=2.0)
    ap.add_argument(
        "--pairs",
        type=int,
        default=10**8,
        help="query-key pairs per exact timing (queries = pairs // n)",
    )
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    fmap = positive_features(args.d, args.features, width=args.width, seed=0)
    rows = []
    for n in args.sizes:
        gen = torch.Generator().manual_seed(n)
        x = torch.randn(n, args.d, generator=gen)
        x = x / x.norm(dim=1, keepdim=True)
        y = torch.randn(n, generator=gen)
        n_sub = min(n, max(20, args.pairs // n))
        t_exact, exact = best_of(
            partial(nadaraya_watson, x[:n_sub], x, y, args.width), args.repeat
        )
        t_linear, approx = best_of(
            partial(linear_attention, x, x, y, fmap), args.repeat
        )
        rms = float((approx[:n_sub] - exact).double().pow(2).mean().sqrt())
        row = {
            "n": n,
            "exact_queries_timed": n_sub,
            "exact_s": t_exact * n / n_sub,
            "linear_s": t_linear,
            "speedup": t_exact * n / n_sub / t_linear,
            "rms_difference": rms,
        }
        rows.append(row)
        print(
            f"n = {n:>9,}  exact {row['exact_s']:11.4g} s  linear {t_linear:9.4g} s  "
            f"speed-up {row['speedup']:9.3g}  RMS difference {rms:.2e}",
            flush=True,
        )
    ratio = np.array([r["speedup"] for r in rows])
    sizes = np.array([r["n"] for r in rows], dtype=float)
    slower = np.nonzero(ratio <= 1)[0]
    crossover = None
    if len(slower) and slower[-1] + 1 < len(ratio):  # linear faster from i on
        i = int(slower[-1]) + 1
        a, b = np.log(sizes[i - 1]), np.log(sizes[i])
        ra, rb = np.log(ratio[i - 1]), np.log(ratio[i])
        crossover = float(math.exp(a - ra * (b - a) / (rb - ra)))
    result = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor(),
            "cpus": os.cpu_count(),
            "torch": torch.__version__,
            "threads": args.threads,
            "load_average": list(os.getloadavg()),
        },
        "settings": {
            k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
        },
        "rows": rows,
        "crossover_n": crossover,
        "crossover_note": (
            "log-log interpolation of the speed-up between the last "
            "size where exact was as fast and the next; null when "
            "linear was faster at every size (or not at the largest)"
        ),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"crossover n: {crossover}; wrote {args.out}")


if __name__ == "__main__":
    main()
