"""Run the sandbox's benchmarks and print their figures.

    .venv/bin/python benchmarks/run.py                 # all of them (= make bench)
    .venv/bin/python benchmarks/run.py startup dns     # a named subset
    .venv/bin/python benchmarks/run.py --profile scaleout   # the serving process under cProfile

Figures, not pass/fail tests: each is printed with its target and written, with the
machine it ran on, to benchmarks/results/latest.json.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import ROOT, Figure, Skip  # noqa: E402

BENCHMARKS = {            # name -> module, in running order
    "startup": "bench_startup",
    "scaleout": "bench_scaleout",
    "list": "bench_list",
    "memory": "bench_memory",
    "dns": "bench_dns",
    "exec": "bench_exec",
    "course": "bench_course",
    "durability": "bench_durability",
}
RESULTS = HERE / "results"


class Context:
    """What benchmarks share within one run: the 1000-pod sandbox, built at most once."""

    def __init__(self, profile: bool) -> None:
        self.profile_dir = RESULTS if profile else None
        self._fleet = None

    def profile_path(self, name: str) -> Path | None:
        return self.profile_dir / f"{name}.prof" if self.profile_dir else None

    def fleet(self):
        if self._fleet is None:
            from _fleet import Fleet
            self._fleet = Fleet(profile=self.profile_path("fleet")).__enter__()
        return self._fleet

    def close(self) -> None:
        if self._fleet is not None:
            self._fleet.__exit__()
            self._fleet = None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("names", nargs="*", metavar="NAME", help=f"benchmarks to run: {', '.join(BENCHMARKS)}")
    p.add_argument("--profile", action="store_true",
                   help="run each started sandbox under cProfile; stats go to benchmarks/results/*.prof")
    p.add_argument("--output", type=Path, default=RESULTS / "latest.json")
    args = p.parse_args(argv)
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        p.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    names = args.names or list(BENCHMARKS)
    RESULTS.mkdir(exist_ok=True)

    ctx = Context(args.profile)
    report = {"meta": _meta(), "benchmarks": {}}
    try:
        for name in names:
            print(f"== {name}", file=sys.stderr, flush=True)
            report["benchmarks"][name] = _run_one(name, ctx)
    finally:
        ctx.close()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=1) + "\n")
    print(_table(report))
    print(f"\nwritten to {args.output}")
    return 1 if any("error" in r for r in report["benchmarks"].values()) else 0


def _run_one(name: str, ctx: Context) -> dict:
    module = importlib.import_module(BENCHMARKS[name])
    t0 = time.perf_counter()
    try:
        figures: list[Figure] = module.run(ctx)
    except Skip as e:
        return {"skipped": str(e)}
    except Exception as e:  # one broken benchmark must not hide the others' figures
        traceback.print_exc()
        return {"error": f"{type(e).__name__}: {e}"}
    return {"figures": [f.to_dict() for f in figures], "seconds": round(time.perf_counter() - t0, 2)}


def _table(report: dict) -> str:
    rows = [("benchmark", "figure", "value", "target", "", "note")]
    for name, result in report["benchmarks"].items():
        if "skipped" in result or "error" in result:
            rows.append((name, "-", "-", "", "SKIP" if "skipped" in result else "ERROR",
                         result.get("skipped") or result.get("error")))
            continue
        for f in result["figures"]:
            mark = {True: "ok", False: "MISS", None: ""}[f["met"]]
            rows.append((name, f["name"], f"{_fmt(f['value'])} {f['unit']}", f["target"], mark, f["note"]))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r[:5], widths)) + ("  " + r[5] if r[5] else "") for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def _fmt(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.3f}"


def _meta() -> dict:
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                             text=True, timeout=5).stdout.strip()
    except OSError:
        rev = ""
    return {"time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "git": rev, "python": platform.python_version(),
            "platform": platform.platform(), "cpus": os.cpu_count()}


if __name__ == "__main__":
    sys.exit(main())
