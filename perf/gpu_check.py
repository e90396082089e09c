"""Every registered experiment at its CUDA defaults on this machine's GPU: wall time and peak GPU memory against
the experiment's own estimate (the one the web process uses to refuse runs over the GPU worker's budget).

Run from the repository root (``make gpu-check``)::

    .venv/bin/python -m perf.gpu_check [--only NAME ...] [--json out.json]

Experiments are read from the registry, so ones added later are checked without touching this script.  Peak
memory is the largest ``torch.cuda.max_memory_allocated()`` over the whole ``run()`` (including the peaks an
experiment's own per-point measurements reset), minus what was allocated before (nothing, in a fresh process).
Exits 2 without a CUDA device, 1 when a run failed or an estimate is off (under 75 % or over 2x of the measured
peak), else 0.

No Django import anywhere: this exercises exactly what the Celery worker calls.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from experiments.bench import registry  # (no torch: names and configs only)

MB = 2**20
LOW, HIGH = 0.75, 2.0  # the estimate's agreed tolerance


def check(name: str) -> dict[str, Any]:
    """Run ``name`` at its CUDA defaults; wall time, peak GPU memory, estimate and their ratio."""
    import torch

    config = registry.validate_params(name, {"device": "cuda"}, "cuda")
    estimate = config.peak_memory_bytes("cuda") if hasattr(config, "peak_memory_bytes") else None
    run = registry.get_experiment(name).run  # imports the module before the clock starts
    torch.cuda.synchronize()
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    before = torch.cuda.memory_allocated()
    # Experiments reset the peak themselves (common.PeakMemory, per point): keep each peak before it goes.
    peaks: list[int] = []
    reset = torch.cuda.reset_peak_memory_stats

    def keep_peak_then_reset(*args: Any, **kwargs: Any) -> None:
        peaks.append(torch.cuda.max_memory_allocated())
        reset(*args, **kwargs)

    torch.cuda.reset_peak_memory_stats = keep_peak_then_reset
    start = time.perf_counter()
    try:
        run(config)
        torch.cuda.synchronize()
    finally:
        torch.cuda.reset_peak_memory_stats = reset
    wall = time.perf_counter() - start
    peak = max([*peaks, torch.cuda.max_memory_allocated()]) - before
    ratio = estimate / peak if estimate and peak > 0 else None
    return {
        "experiment": name,
        "wall_s": wall,
        "peak_mb": peak / MB,
        "estimate_mb": None if estimate is None else estimate / MB,
        "estimate_over_peak": ratio,
        "ok": ratio is not None and LOW <= ratio <= HIGH,
    }


def table(rows: list[dict[str, Any]], device: str) -> str:
    lines = [
        f"Device: {device}",
        f"{'experiment':<28} {'wall s':>8} {'peak GPU MB':>12} {'estimate MB':>12} {'est/peak':>9}  verdict",
    ]
    for r in rows:
        if "error" in r:
            lines.append(f"{r['experiment']:<28} {'-':>8} {'-':>12} {'-':>12} {'-':>9}  FAILED: {r['error']}")
            continue
        est = "-" if r["estimate_mb"] is None else f"{r['estimate_mb']:.0f}"
        ratio = "-" if r["estimate_over_peak"] is None else f"{r['estimate_over_peak']:.2f}"
        verdict = "ok" if r["ok"] else f"estimate outside {LOW:g}-{HIGH:g}x of the peak"
        lines.append(f"{r['experiment']:<28} {r['wall_s']:>8.1f} {r['peak_mb']:>12.0f} {est:>12} {ratio:>9}  {verdict}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=list(registry.EXPERIMENTS), help="experiments to check")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args(argv)

    import torch

    if not torch.cuda.is_available():
        print(
            "gpu-check: no CUDA device here (torch.cuda.is_available() is False; torch "
            f"{torch.__version__}, built for CUDA {torch.version.cuda or 'none'}). Run it on a machine with an NVIDIA "
            "GPU and a CUDA build of torch (see the gpu-worker service in docker-compose.yml).",
            file=sys.stderr,
        )
        return 2
    device = f"{torch.cuda.get_device_name()} (torch {torch.__version__}, CUDA {torch.version.cuda})"
    rows = []
    for name in args.only or list(registry.EXPERIMENTS):
        print(f"gpu-check: {name} ...", file=sys.stderr, flush=True)
        try:
            rows.append(check(name))
        except Exception as exc:  # noqa: BLE001 - report every experiment, then fail
            rows.append({"experiment": name, "error": f"{type(exc).__name__}: {exc}"[:200], "ok": False})
    print(table(rows, device))
    if args.json:
        args.json.write_text(json.dumps({"device": device, "rows": rows}, indent=2))
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
