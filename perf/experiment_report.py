"""Figures from perf/run_experiments.py's printed report, turned into budget rows.

That script (owned by the experiments engineer) prints a human-readable report; this parses the parts the
budgets need: the summary table (run() wall time, bare-torch time, harness overhead per experiment), the GEMM
peak and the Transformer's achieved GFLOP/s per measured point.
"""
from __future__ import annotations

import re

WALL_BUDGETS_S = {
    "sequence-latency": 25.0,
    "gradient-flow": 15.0,
    "long-range-recall": 60.0,
    "length-extrapolation": 90.0,
    "kv-cache-decoding": 60.0,
}
OVERHEAD_BUDGET = 0.05

_SUMMARY_ROW = re.compile(
    r"^(?P<name>[a-z][a-z-]+)\s+(?P<wall>\d+\.\d+)\s+(?P<bare>-|\d+\.\d+)\s+(?P<overhead>-|[+-]\d+\.\d+%)\s+(?P<fig>\d+)\s*$"
)
_GEMM = re.compile(r"GEMM peak:\s*(?P<gflops>\d+(?:\.\d+)?)\s*GFLOP/s")
# batch len LSTM-ms IQR TF-ms IQR LSTM/TF TF-GFLOP/s
_LATENCY_ROW = re.compile(r"^\s*\d+\s+\d+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+(?P<tf_gflops>[\d.]+)\s*$")


def parse(stdout: str) -> dict:
    summary: dict[str, dict] = {}
    in_summary = False  # several reports may be concatenated: each has its own summary
    tf_gflops: list[float] = []
    gemm = None
    for line in stdout.splitlines():
        if line.startswith("=== summary"):
            in_summary = True
            continue
        if line.startswith("device class:"):
            in_summary = False
        if (match := _GEMM.search(line)) and gemm is None:
            gemm = float(match["gflops"])
        if not in_summary and (match := _LATENCY_ROW.match(line)):
            tf_gflops.append(float(match["tf_gflops"]))
        if in_summary and (match := _SUMMARY_ROW.match(line)):
            summary[match["name"]] = {
                "wall_s": float(match["wall"]),
                "bare_s": None if match["bare"] == "-" else float(match["bare"]),
                "overhead": None if match["overhead"] == "-" else float(match["overhead"].rstrip("%")) / 100,
                "figure_ms": float(match["fig"]),
            }
    fraction = max(tf_gflops) / gemm if tf_gflops and gemm else None
    return {"summary": summary, "gemm_peak_gflops": gemm, "transformer_best_gflops": max(tf_gflops, default=None),
            "transformer_fraction_of_peak": fraction, "budgets": budget_rows(summary, gemm, tf_gflops, fraction)}


def budget_rows(summary: dict, gemm: float | None, tf_gflops: list[float], fraction: float | None) -> list[dict]:
    rows = []
    for name, limit in WALL_BUDGETS_S.items():
        figures = summary.get(name)
        rows.append({
            "budget": f"Experiment {name}: default CPU run wall time", "target": f"< {limit:.0f} s",
            "measured": f"{figures['wall_s']:.1f} s" if figures else "not in the report",
            "ok": figures["wall_s"] < limit if figures else None,
        })
    overheads = {name: f["overhead"] for name, f in summary.items() if f["overhead"] is not None}
    rows.append({
        "budget": "Experiment harness overhead vs bare torch", "target": f"< {OVERHEAD_BUDGET:.0%} each",
        "measured": ", ".join(f"{name} {value:+.1%}" for name, value in overheads.items()) or "not in the report",
        "ok": all(value < OVERHEAD_BUDGET for value in overheads.values()) if overheads else None,
    })
    rows.append({
        "budget": "Transformer achieved FLOP/s vs this CPU's GEMM peak (same run)", "target": "printed",
        "measured": (f"best {max(tf_gflops):.1f} GFLOP/s of {gemm:.1f} GFLOP/s peak = {fraction:.0%}"
                     + (" (above 100 %: the GEMM peak was measured while the cores were busy)" if fraction > 1 else "")
                     if fraction is not None else "not in the report"),
        "ok": None,
    })
    return rows
