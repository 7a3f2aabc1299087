"""cardiacmotion benchmark [--cases N] [--methods ...] [--json OUT] [--under-load N]

Runs every method on the same synthetic cases in one process and reports frames per second,
total seconds, peak memory and the ratios to the first method. ``--under-load N`` then starts N
CPU-bound competing processes itself, runs every method again and reports, per method, the time
under load divided by the idle time (the thread policy aims at <= 2 for one or two competitors).
"""
from __future__ import annotations

import argparse
import resource
import time
import tracemalloc

from cardiacmotion.cli.common import add_common, say, write_json
from cardiacmotion.errors import InputError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("benchmark", help="speed and memory of the propagation methods on the same cases")
    p.add_argument("--cases", type=int, default=3, help="synthetic MR cases (default 3)")
    p.add_argument("--methods", nargs="+", default=None, help="methods to compare (default: all available)")
    p.add_argument("--json", dest="json_out", help="write the results as JSON")
    p.add_argument("--weights", default=None, help="checkpoint for the memory method (default: the bundled one)")
    p.add_argument("--under-load", type=int, default=0, metavar="N",
                   help="also run every method with N competing CPU-bound processes and report the slowdown")
    p.add_argument("--frame-by-frame", action="store_true",
                   help="also run each method with the through-stack pass one phase at a time (the batching's gain)")
    p.add_argument("--studies", type=int, nargs="+", metavar="N",
                   help="frames/s of the memory method with N studies batched together, for each N (MR and echo)")
    p.add_argument("--echo", action="store_true",
                   help="echo speed instead: PKEcho-Net model-only / end-to-end / bare encoder beside sscf and tan-auto (one run)")
    p.add_argument("--threads", type=int, default=2, help="--echo: torch threads (default 2)")
    add_common(p)
    p.set_defaults(func=run)


def _one(method: str, cases, device, weights=None, batch_phases: bool = True) -> dict:
    import torch

    from cardiacmotion.propagation.segment import segment_cine

    frames, seconds = 0, 0.0
    cuda = device.type == "cuda"
    if cuda:
        torch.cuda.reset_peak_memory_stats(device)
    tracemalloc.start()
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for image, seeds in cases:
        t0 = time.perf_counter()
        _, info = segment_cine(image, seeds=seeds, method=method, device=str(device),
                               weights=weights if method in ("memory", "fusion") else None, batch_phases=batch_phases)
        if cuda:
            torch.cuda.synchronize(device)
        seconds += time.perf_counter() - t0
        frames += image.phases * image.slices
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    row = {
        "method": info["method"] + ("" if batch_phases else "-frame-by-frame"),
        "frames": frames,
        "seconds": round(seconds, 3),
        "frames_per_second": round(frames / max(seconds, 1e-9), 2),
        "peak_python_mb": round(peak / 2**20, 1),
        "maxrss_increase_mb": round(max(0, rss1 - rss0) / 1024, 1),
    }
    if cuda:
        row["peak_cuda_mb"] = round(torch.cuda.max_memory_allocated(device) / 2**20, 1)
    return row


_BUSY = "import signal, sys; signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))\nwhile True:\n    pass\n"


def _under_load(n: int, methods, cases, device, weights, idle_rows) -> list[dict]:
    """Every method again with ``n`` busy competitors (started and stopped here): time ratios to idle."""
    import subprocess
    import sys

    from cardiacmotion.threads import apply_thread_policy

    procs = [subprocess.Popen([sys.executable, "-c", _BUSY]) for _ in range(n)]
    try:
        time.sleep(0.5)  # let them be scheduled (and counted as runnable by the policy)
        threads = apply_thread_policy()
        rows = [_one(m, cases, device, weights) for m in methods]
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
    out = []
    for idle, loaded in zip(idle_rows, rows):
        out.append({"method": idle["method"], "competitors": n, "threads": threads, "idle_seconds": idle["seconds"],
                    "loaded_seconds": loaded["seconds"], "slowdown": round(loaded["seconds"] / max(idle["seconds"], 1e-9), 3)})
    return out


def run(args: argparse.Namespace) -> int:
    from cardiacmotion.device import resolve_device
    from cardiacmotion.propagation.evaluate import case
    from cardiacmotion.propagation.methods import available_methods
    from cardiacmotion.propagation.segment import segment_methods

    if args.cases < 1:
        raise InputError("--cases must be at least 1")
    if args.json_out:
        from cardiacmotion.io.outputs import check_output

        check_output(args.json_out, suffixes=(".json",), option="--json")
    if args.under_load < 0 or args.under_load > 64:
        raise InputError("--under-load must be between 0 and 64")
    if args.studies:
        return _run_studies(args)
    if args.echo:
        return _run_echo(args)
    methods = args.methods or available_methods()
    # fusion runs memory and registration: there when memory is, and benchmarked only on request
    known = segment_methods()
    unknown = [m for m in methods if m not in known]
    if unknown:
        raise InputError(f"method {unknown[0]!r} is not available (available: {', '.join(known)})")
    device = resolve_device(args.device)
    cases = []
    source = ""
    for s in range(args.cases):
        image, _, seeds, _, source = case("mr", s)
        cases.append((image, seeds))
    if device.type == "cuda":  # warm-up (CUDA context, cuDNN autotune) outside the timings
        _one(methods[0], cases[:1], device, args.weights)
    rows = [_one(m, cases, device, args.weights) for m in methods]
    if args.frame_by_frame:
        rows += [_one(m, cases, device, args.weights, batch_phases=False) for m in methods]
    loaded = _under_load(args.under_load, methods, cases, device, args.weights, rows[:len(methods)]) if args.under_load > 0 else []
    base = rows[0]
    for r in rows:
        r["speed_ratio_vs_" + base["method"]] = round(r["frames_per_second"] / max(base["frames_per_second"], 1e-9), 3)
        r["memory_ratio_vs_" + base["method"]] = round(r["peak_python_mb"] / max(base["peak_python_mb"], 1e-9), 3)
    from cardiacmotion.threads import current_threads

    result = {"device": str(device), "cases": args.cases, "source": source, "results": rows,
              "threads": current_threads()}
    if loaded:
        result["under_load"] = loaded
    if args.json_out:
        write_json(result, args.json_out)
    for r in rows:
        line = (f"{r['method']:>12}: {r['frames_per_second']:8.1f} frames/s, {r['seconds']:7.2f} s total, "
                f"peak {r['peak_python_mb']:.1f} MB python (+{r['maxrss_increase_mb']:.1f} MB rss)")
        if "peak_cuda_mb" in r:
            line += f", {r['peak_cuda_mb']:.1f} MB CUDA"
        print(line)
    for r in loaded:
        print(f"{r['method']:>12}: x{r['slowdown']:.2f} with {r['competitors']} competing processes "
              f"({r['idle_seconds']:.2f} s idle -> {r['loaded_seconds']:.2f} s, {r['threads']} thread(s))")
    if len(rows) > 1:
        for r in rows[1:]:
            say(args, f"{r['method']} / {base['method']}: speed x{r['speed_ratio_vs_' + base['method']]}, "
                f"memory x{r['memory_ratio_vs_' + base['method']]}")
    return 0


def _run_studies(args: argparse.Namespace) -> int:
    """``--studies N ...``: throughput of batched studies (cardiacmotion.propagation.batched_bench)."""
    from cardiacmotion.cli.common import make_progress
    from cardiacmotion.propagation.batched_bench import studies_benchmark

    method = (args.methods or ["memory"])[0]
    rows = studies_benchmark(args.studies, method=method, device=args.device, weights=args.weights,
                             distinct=args.cases, progress=make_progress(args))
    if args.json_out:
        write_json({"results": rows}, args.json_out)
    for r in rows:
        print(f"{r['modality']:>5} {r['method']}: {r['studies']:4d} studies, {r['frames']:6d} frames, "
              f"{r['frames_per_second']:9.1f} frames/s, x{r['speed_ratio_vs_first']} vs {args.studies[0]} ({r['device']})")
    return 0


def _run_echo(args: argparse.Namespace) -> int:
    """``--echo``: the echo speed rows (cardiacmotion.echo.pkecho_bench), ``--weights`` = PKEcho-Net weights."""
    from cardiacmotion.echo.pkecho_bench import echo_benchmark

    if args.threads < 1:
        raise InputError("--threads must be at least 1")
    res = echo_benchmark(args.weights, threads=args.threads)
    if args.json_out:
        write_json(res, args.json_out)
    for r in res["rows"]:
        if "error" in r:
            print(f"{r['row']:>24}: {r['error']}")
        else:
            print(f"{r['row']:>24}: {r['frames_per_second']:8.1f} frames/s (median {r['median_s'] * 1000:.1f} ms, "
                  f"p90 {r['p90_s'] * 1000:.1f} ms for {r['frames']} frames)")
    print(f"pkecho model / bare encoder latency: x{res['encoder_ratio']} ({res['threads']} threads, load {res['load_average']})")
    return 0
