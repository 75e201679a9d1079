"""Speed and scale of nwlib against the tools people use: prints a table, stores JSON.

Run from the repository root (not part of the unit tests; the statsmodels part of
``selection`` takes minutes, so run it in the background)::

    .venv/bin/python benchmarks/bench_scale.py                       # everything
    .venv/bin/python benchmarks/bench_scale.py --parts throughput big
    .venv/bin/python benchmarks/bench_scale.py --parts selection --sizes 1000 2000

Parts, all on the running example y = 2 sin x + x + noise (nwlib.data.running_example):

selection   leave-one-out width selection: nwlib.selection.select_width_minimize
            (float32) vs statsmodels
            KernelReg(var_type='c', reg_type='lc', bw='cv_ls'): times, ratio, both
            widths.
throughput  kernel evaluations per second, n_keys = 1e5: nwlib (float32 and float64,
            blocked dense), the textbook dense float64 softmax, statsmodels
            KernelReg.fit at a fixed width, and the floor: a bare torch.exp over
            float32 numbers.
loo_loop    leaving a point out with a per-query Python loop vs masking the diagonal,
            n = 1000, forward and forward + backward (float32).
big         n_keys = 1e6, n_queries = 1e4: wall time and peak RSS (``/usr/bin/time -v``)
            of a fresh process, dense blocked and banded.

Timings are the best of ``--repeat`` runs. Results go to ``--out`` (default
benchmarks/results/bench_scale.json) with the date, the machine and its load average;
parts not run keep their previous stored results.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "bench_scale.json"


def best_of(fn, repeat: int) -> float:
    """Smallest wall time of ``repeat`` calls (seconds): the least disturbed run."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def machine() -> dict:
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"model name\s*:\s*(.*)", f.read())
            cpu = m.group(1).strip() if m else cpu
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "platform": platform.platform(),
    }


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# ------------------------------------------------------------------------------ parts


def part_selection(sizes: list[int], repeat: int, skip_statsmodels: bool) -> list[dict]:
    from nwlib.data import running_example
    from nwlib.selection import select_width_minimize

    def select_fast(x, y):  # float32 scores, float64 sums: the fast choice
        return select_width_minimize(x, y, dtype=torch.float32)

    rows = []
    for n in sizes:
        s = running_example(n_train=n, n_val=0, seed=0)
        x, y = s.x_train.numpy(), s.y_train.numpy()
        select_fast(x[:200], y[:200])  # warm up (imports, threads)
        res = {}
        t_nw = best_of(
            lambda res=res, x=x, y=y: res.update(r=select_fast(x, y)), repeat
        )
        row = {
            "n": n,
            "nwlib_s": t_nw,
            "nwlib_width": res["r"].width,
            "nwlib_evaluations": res["r"].evaluations,
            "load_before_statsmodels": load(),
        }
        if not skip_statsmodels:
            from statsmodels.nonparametric.kernel_regression import KernelReg

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t0 = time.perf_counter()
                kr = KernelReg(y, x, var_type="c", reg_type="lc", bw="cv_ls")
                row["statsmodels_s"] = time.perf_counter() - t0
            row["statsmodels_width"] = float(kr.bw[0])
            row["ratio"] = row["statsmodels_s"] / t_nw
            row["width_rel_diff"] = abs(
                row["nwlib_width"] / row["statsmodels_width"] - 1
            )
        rows.append(row)
        print_rows("selection", [row])
    return rows


def part_throughput(repeat: int) -> list[dict]:
    from nwlib import nadaraya_watson
    from nwlib.data import running_example
    from nwlib.scale import banded_nadaraya_watson

    n_k, n_q, n_small, h = 10**5, 10**3, 200, 0.1
    s = running_example(n_train=n_k, n_val=n_q, seed=0)
    x, y, q = s.x_train, s.y_train, s.x_val
    rows = []

    def add(name, seconds, evaluations, note=""):
        rows.append(
            {
                "method": name,
                "seconds": seconds,
                "evaluations": evaluations,
                "evals_per_s": evaluations / seconds,
                "note": note,
            }
        )
        print_rows("throughput", rows[-1:])

    nadaraya_watson(q[:10], x, y, h, dtype=torch.float32)  # warm up
    add(
        "nwlib float32 (blocked, every key)",
        best_of(
            lambda: nadaraya_watson(q, x, y, h, dtype=torch.float32, banded=False),
            repeat,
        ),
        n_q * n_k,
    )
    add(
        "nwlib float64 (blocked, every key)",
        best_of(lambda: nadaraya_watson(q, x, y, h, banded=False), repeat),
        n_q * n_k,
    )
    t = best_of(lambda: banded_nadaraya_watson(q, x, y, h, dtype=torch.float32), repeat)
    add(
        "nwlib banded float32 (the default for this 1-D case)",
        t,
        n_q * n_k,
        "exact to float32; visits only keys within the truncation radius: "
        "effective rate",
    )

    qs, xs, ys = (
        q[:n_small],
        x,
        y,
    )  # the dense forms hold the whole matrix: fewer queries

    def textbook():  # the plain dense form: every weight of every query in float64
        w = torch.softmax(-(((qs.unsqueeze(1) - xs.unsqueeze(0)) / h) ** 2) / 2, dim=1)
        return w @ ys

    add(
        "textbook dense softmax, torch float64",
        best_of(textbook, repeat),
        n_small * n_k,
        f"{n_small} queries",
    )
    from statsmodels.nonparametric.kernel_regression import KernelReg

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kr = KernelReg(y.numpy(), x.numpy(), var_type="c", reg_type="lc", bw=[h])
        n_sm = 50
        add(
            "statsmodels KernelReg.fit (fixed width)",
            best_of(lambda: kr.fit(q[:n_sm].numpy()), max(1, repeat // 2)),
            n_sm * n_k,
            f"{n_sm} queries",
        )
    buf = torch.empty(n_q * n_k, dtype=torch.float32)
    buf.fill_(-1.0)
    add(
        "floor: bare torch.exp, float32",
        best_of(lambda: torch.exp(buf, out=buf), repeat),
        n_q * n_k,
        "in place, no distances, no sums",
    )
    low = torch.full(
        (n_q * n_k // 10,), -100.0
    )  # exp < float32's smallest normal number
    out = torch.empty_like(low)
    add(
        "bare torch.exp, float32, arguments near -100",
        best_of(lambda: torch.exp(low, out=out), repeat),
        low.numel(),
        "the slow path the clamp avoids: results are subnormal or 0",
    )
    return rows


def part_loo_loop(repeat: int) -> list[dict]:
    from nwlib import nadaraya_watson
    from nwlib.data import running_example

    n = 1000
    s = running_example(n_train=n, n_val=0, seed=0)
    x, y = s.x_train.float(), s.y_train.float()

    def loop_form(h):  # the per-query loop of popular exercise solutions
        preds = []
        for i in range(n):
            keep = x != x[i]  # also drops exact duplicates of x_i
            w = torch.softmax(-(((x[i] - x[keep]) / h) ** 2) / 2, dim=0)
            preds.append(w @ y[keep])
        return ((torch.stack(preds) - y) ** 2).mean()

    def masked_form(h):
        return ((nadaraya_watson(x, x, y, h, exclude_self=True) - y) ** 2).mean()

    rows = []
    for name, fn in (
        ("per-query Python loop", loop_form),
        ("masked diagonal (nwlib)", masked_form),
    ):
        h = torch.tensor(0.3, requires_grad=True)

        def fwd_bwd(h=h, fn=fn):
            h.grad = None
            fn(h).backward()

        with torch.no_grad():
            fwd = best_of(lambda fn=fn, h=h: fn(h), repeat)
        both = best_of(fwd_bwd, repeat)
        with torch.no_grad():
            loss = float(fn(h))
        fwd_bwd()
        rows.append(
            {
                "method": name,
                "forward_s": fwd,
                "forward_backward_s": both,
                "loss": loss,
                "grad": float(h.grad),
            }
        )
        print_rows("loo_loop", rows[-1:])
    return rows


BIG_CHILD = """
import sys, time, torch
from nwlib.data import running_example
from nwlib import nadaraya_watson
from nwlib.scale import banded_nadaraya_watson
s = running_example(n_train=10**6, n_val=10**4, seed=0)
t0 = time.perf_counter()
if sys.argv[1] == "dense":
    f = nadaraya_watson(
        s.x_val, s.x_train, s.y_train, float(sys.argv[2]), dtype=torch.float32,
        banded=False,
    )
else:
    f = banded_nadaraya_watson(
        s.x_val, s.x_train, s.y_train, float(sys.argv[2]), dtype=torch.float32
    )
t = time.perf_counter() - t0
print(f"INNER {t:.4f} FINITE {bool(torch.isfinite(f).all())}")
"""


def part_big(repeat: int) -> list[dict]:
    timer = shutil.which("time") or (
        "/usr/bin/time" if Path("/usr/bin/time").exists() else None
    )
    if timer is None:
        raise SystemExit("part 'big' needs GNU time: apt-get install -y time")
    h = 0.1
    rows = []
    for mode in ("dense", "banded"):
        best = None
        for _ in range(repeat):
            out = subprocess.run(
                [timer, "-v", sys.executable, "-c", BIG_CHILD, mode, str(h)],
                capture_output=True,
                text=True,
                cwd=ROOT,
            )
            if out.returncode != 0:
                raise RuntimeError(out.stderr[-2000:])
            inner = float(re.search(r"INNER ([\d.]+)", out.stdout).group(1))
            rss_kb = int(
                re.search(
                    r"Maximum resident set size \(kbytes\): (\d+)", out.stderr
                ).group(1)
            )
            wall = re.search(
                r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)",
                out.stderr,
            ).group(1)
            wall_s = sum(
                float(p) * 60**i for i, p in enumerate(reversed(wall.split(":")))
            )
            row = {
                "method": f"nwlib {mode} float32",
                "width": h,
                "n_keys": 10**6,
                "n_queries": 10**4,
                "predict_s": inner,
                "process_wall_s": wall_s,
                "peak_rss_mb": rss_kb / 1024,
                "finite": "FINITE True" in out.stdout,
            }
            if best is None or row["predict_s"] < best["predict_s"]:
                best = row
        rows.append(best)
        print_rows("big", [best])
    return rows


# ------------------------------------------------------------------------------ output


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.3g}" if abs(v) >= 1e-3 or v == 0 else f"{v:.2e}"
    return str(v)


def print_rows(title: str, rows: list[dict]) -> None:
    for r in rows:
        print(
            f"[{title}] " + "  ".join(f"{k}={_fmt(v)}" for k, v in r.items()),
            flush=True,
        )


def print_table(results: dict) -> None:
    parts = results.get("parts", {})
    print(
        f"\n# bench_scale  {results.get('date')}  {results['machine'].get('cpu')} "
        f"({results['machine'].get('cores')} cores)"
    )
    if "selection" in parts:
        print("\n## Leave-one-out width selection (seconds)")
        print(
            f"{'n':>7} {'nwlib':>8} {'statsmodels':>12} {'ratio':>7} "
            f"{'h nwlib':>9} {'h sm':>9} {'rel diff':>9}"
        )
        for r in parts["selection"]["rows"]:
            print(
                f"{r['n']:>7} {r['nwlib_s']:>8.3f} "
                f"{r.get('statsmodels_s', math.nan):>12.2f} "
                f"{r.get('ratio', math.nan):>7.0f} {r['nwlib_width']:>9.5f} "
                f"{r.get('statsmodels_width', math.nan):>9.5f} "
                f"{r.get('width_rel_diff', math.nan):>9.1e}"
            )
    if "throughput" in parts:
        print(
            "\n## Prediction throughput, n_keys = 1e5 "
            "(Gaussian kernel evaluations per second)"
        )
        for r in parts["throughput"]["rows"]:
            print(f"{r['method']:<52} {r['evals_per_s']:>9.2e}  {r['note']}")
    if "loo_loop" in parts:
        print("\n## Leave-one-out at n = 1000, float32 (seconds)")
        for r in parts["loo_loop"]["rows"]:
            print(
                f"{r['method']:<28} forward {r['forward_s']:.4f}  forward+backward "
                f"{r['forward_backward_s']:.4f}  loss {r['loss']:.6f}"
            )
    if "big" in parts:
        print("\n## n_keys = 1e6, n_queries = 1e4, h = 0.1")
        for r in parts["big"]["rows"]:
            print(
                f"{r['method']:<24} predict {r['predict_s']:.2f} s  "
                f"process {r['process_wall_s']:.2f} s  "
                f"peak RSS {r['peak_rss_mb']:.0f} MB"
            )


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--parts",
        nargs="+",
        default=["selection", "throughput", "loo_loop", "big"],
        choices=["selection", "throughput", "loo_loop", "big"],
    )
    ap.add_argument("--sizes", nargs="+", type=int, default=[1000, 2000, 5000, 10000])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: torch's)"
    )
    ap.add_argument(
        "--skip-statsmodels", action="store_true", help="selection: nwlib only"
    )
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument(
        "--print-only", action="store_true", help="print the stored table and exit"
    )
    args = ap.parse_args(argv)
    if args.print_only:
        print_table(json.loads(args.out.read_text()))
        return
    if args.threads:
        torch.set_num_threads(args.threads)
    results = json.loads(args.out.read_text()) if args.out.exists() else {"parts": {}}
    results.update(
        date=dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        machine=machine(),
    )
    runners = {
        "selection": lambda: part_selection(
            args.sizes, args.repeat, args.skip_statsmodels
        ),
        "throughput": lambda: part_throughput(args.repeat),
        "loo_loop": lambda: part_loo_loop(args.repeat),
        "big": lambda: part_big(args.repeat),
    }
    for part in args.parts:
        before = load()
        rows = runners[part]()
        results["parts"][part] = {
            "rows": rows,
            "date": results["date"],
            "machine": results["machine"],
            "load_avg_before": before,
            "load_avg_after": load(),
            "repeat": args.repeat,
        }
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=1) + "\n")
    print_table(results)
    shown = args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out
    print(f"\nstored in {shown}")


if __name__ == "__main__":
    main()
