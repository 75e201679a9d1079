"""The same pooling workloads timed on several git revisions of nwlib, side by side.

Run from the repository root (not part of the tests; a few minutes)::

    .venv/bin/python benchmarks/compare_revisions.py 9e59ba0 HEAD
    .venv/bin/python benchmarks/compare_revisions.py 9e59ba0 657963f HEAD --rounds 5

Each revision is checked out into a temporary git worktree and imported from there
(``PYTHONPATH``) by a fresh Python process per round, so every revision runs with the
same interpreter, torch and machine. Rounds interleave the revisions (A B C A B C ...)
so that a change of machine load hits every revision alike; a workload's time in one
round is the best of ``--repeat`` calls, and the table shows the median over rounds
and the ratio to the first revision. Only public calls that every revision has are
timed (``nwlib.pooling.nadaraya_watson`` with its ``exclude_self``, ``dtype`` and
``banded`` options), so old and new code do the same work.

Workloads, all on the running example y = 2 sin x + x + noise (seeded):

dense32 / dense64   2,000 queries x 100,000 keys, Gaussian, float32 / float64
loo_grad32          leave-one-out error on 4,000 points and its gradient with respect
                    to the width (float32), the inner step of learning a width
banded64            Epanechnikov, 20,000 queries x 1,000,000 keys, the banded path
dense8d32           8 features, 5,000 queries x 5,000 keys, Gaussian, float32

Results go to ``--out`` (default benchmarks/results/compare_revisions.json) with the
date, the machine and its load average before and after.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "compare_revisions.json"

# Runs inside each revision's worktree; prints one JSON line of best-of times (s).
WORKER = r"""
import json, math, sys, time
import torch
from nwlib.pooling import nadaraya_watson

repeat = int(sys.argv[1])
gen = torch.Generator().manual_seed(0)

def data(n, d=1):
    x = torch.rand(n, d, generator=gen, dtype=torch.float64) * 5
    noise = torch.randn(n, generator=gen, dtype=torch.float64)
    y = 2 * torch.sin(x[:, 0]) + x[:, 0] + noise
    return (x[:, 0] if d == 1 else x), y

def best(fn):
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)

out = {}
k, v = data(100_000)
q = torch.linspace(0, 5, 2_000, dtype=torch.float64)
out["dense32"] = best(lambda: nadaraya_watson(q, k, v, 0.2, dtype=torch.float32))
out["dense64"] = best(lambda: nadaraya_watson(q, k, v, 0.2, dtype=torch.float64))

x, y = data(4_000)
x32, y32 = x.float(), y.float()
def loo_grad():
    w = torch.tensor(0.3, requires_grad=True)
    f = nadaraya_watson(x32, x32, y32, w, exclude_self=True)
    loss = ((f - y32) ** 2).mean()
    loss.backward()
    return w.grad
out["loo_grad32"] = best(loo_grad)

kb, vb = data(1_000_000)
qb = torch.linspace(0, 5, 20_000, dtype=torch.float64)
out["banded64"] = best(
    lambda: nadaraya_watson(qb, kb, vb, 0.05, "epanechnikov", banded=True))

x8, y8 = data(5_000, d=8)
x8, y8 = x8.float(), y8.float()
out["dense8d32"] = best(lambda: nadaraya_watson(x8, x8, y8, 1.5))
print(json.dumps(out))
"""

WORKLOADS = ["dense32", "dense64", "loo_grad32", "banded64", "dense8d32"]


def git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "revisions", nargs="+", help="git revisions; the first is the base"
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()

    shas = [git("rev-parse", "--short", r) for r in args.revisions]
    load_before = os.getloadavg()
    times: dict[str, dict[str, list[float]]] = {
        s: {w: [] for w in WORKLOADS} for s in shas
    }
    with tempfile.TemporaryDirectory() as tmp:
        trees = {}
        for sha in shas:
            trees[sha] = Path(tmp) / sha
            git("worktree", "add", "--detach", str(trees[sha]), sha)
        try:
            for r in range(args.rounds):
                for sha in shas:
                    env = dict(os.environ, PYTHONPATH=str(trees[sha]))
                    res = subprocess.run(
                        [sys.executable, "-c", WORKER, str(args.repeat)],
                        cwd=trees[sha],
                        env=env,
                        check=True,
                        capture_output=True,
                        text=True,
                    )
                    line = json.loads(res.stdout.strip().splitlines()[-1])
                    for w in WORKLOADS:
                        times[sha][w].append(line[w])
                print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)
        finally:
            for sha in shas:
                git("worktree", "remove", "--force", str(trees[sha]))
    load_after = os.getloadavg()

    median = {s: {w: statistics.median(times[s][w]) for w in WORKLOADS} for s in shas}
    base = shas[0]
    head = f"{'workload':<12}" + "".join(f"{s:>12}" for s in shas)
    head += "".join(f"{'/' + base:>14}" for s in shas[1:])
    print(head)
    for w in WORKLOADS:
        row = f"{w:<12}" + "".join(f"{median[s][w] * 1e3:>10.1f}ms" for s in shas)
        row += "".join(f"{median[s][w] / median[base][w]:>14.3f}" for s in shas[1:])
        print(row)
    spread = {
        s: {w: [min(times[s][w]), max(times[s][w])] for w in WORKLOADS} for s in shas
    }
    record = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_before": [round(x, 2) for x in load_before],
            "load_after": [round(x, 2) for x in load_after],
        },
        "revisions": {s: git("log", "-1", "--format=%s", s)[:120] for s in shas},
        "rounds": args.rounds,
        "repeat": args.repeat,
        "median_s": median,
        "min_max_s": spread,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"stored in {args.out}")


if __name__ == "__main__":
    main()
