"""Per-sample time of xaikit's localisation kernels vs quantus 0.6.0, and their peak memory.

    python benchmarks/bench_metrics.py                 # N = 256 at 224^2, memory at N = 1024
    python benchmarks/bench_metrics.py --n 64 --skip-memory   # quicker

Both libraries get the same float32 arrays (smooth random maps, box masks covering ~2-40 % of
the image). Quantus runs through its public ``__call__`` with ``model=None`` (its input checks
included, as every user pays them); PAR, which Quantus lacks, runs through
``xaikit.metrics.PositiveAttributionRatio`` (the Quantus pipeline scoring with our kernel, the
way paper 003 ran its edited Quantus class). Timings are the median of ``--repeat`` runs for
xaikit and one run for Quantus. Peak memory is the growth of the process's maximum RSS over the
inputs, measured in a fresh subprocess per metric (Linux ``VmHWM``; CPU only).
"""
from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
import warnings

import numpy as np
import torch

METRICS = {
    "RRA": ("relevance_rank_accuracy", "RelevanceRankAccuracy"),
    "RMA": ("relevance_mass_accuracy", "RelevanceMassAccuracy"),
    "PAR": ("positive_attribution_ratio", None),
    "PG": ("pointing_game", "PointingGame"),
}


def make_inputs(n: int, size: int = 224, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    g = torch.Generator().manual_seed(seed)
    coarse = torch.randn(n, 1, size // 8, size // 8, generator=g)
    a = torch.nn.functional.interpolate(coarse, size=(size, size), mode="bilinear", align_corners=False)
    a = a + 0.1 * torch.randn(n, 1, size, size, generator=g)
    s = torch.zeros(n, 1, size, size, dtype=torch.float32)
    lo = torch.randint(0, size // 2, (n, 2), generator=g)
    ext = torch.randint(size // 8, size // 2, (n, 2), generator=g)
    for i in range(n):
        y0, x0 = lo[i].tolist()
        s[i, 0, y0:y0 + ext[i, 0], x0:x0 + ext[i, 1]] = 1
    return a.numpy(), s.numpy()


def time_xaikit(name: str, a: np.ndarray, s: np.ndarray, repeat: int, device: str) -> tuple[float, np.ndarray]:
    import xaikit.metrics as xm

    fn = getattr(xm, METRICS[name][0])
    at = torch.from_numpy(a).to(device)
    st = torch.from_numpy(s.astype(bool)).to(device)
    out = fn(at, st)
    times = []
    for _ in range(repeat):
        if device != "cpu":
            torch.cuda.synchronize()
        t = time.perf_counter()
        out = fn(at, st)
        if device != "cpu":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
    return float(np.median(times)), out.cpu().numpy()


def time_quantus(name: str, a: np.ndarray, s: np.ndarray) -> tuple[float, np.ndarray]:
    import quantus

    import xaikit.metrics as xm

    cls_name = METRICS[name][1]
    cls = getattr(quantus, cls_name) if cls_name else xm.PositiveAttributionRatio
    metric = cls(disable_warnings=True, display_progressbar=False)
    x = np.zeros_like(a)
    y = np.zeros(len(a), dtype=int)
    t = time.perf_counter()
    out = metric(model=None, x_batch=x, y_batch=y, a_batch=a, s_batch=s, batch_size=len(a))
    return time.perf_counter() - t, np.asarray(out, dtype=np.float64)


def peak_memory_mb(name: str, n: int) -> dict:
    """Run one metric on N maps in a fresh interpreter; report peak RSS growth over the inputs.

    The kernel's high-water mark is isolated by resetting the process's peak RSS (``VmHWM``,
    writing 5 to ``/proc/self/clear_refs``) after the inputs exist.
    """
    code = f"""
import json, sys, torch
sys.path.insert(0, {__file__.rsplit('/benchmarks/', 1)[0]!r})
sys.path.insert(0, {__file__.rsplit('/', 1)[0]!r})
from bench_metrics import make_inputs, METRICS
import xaikit.metrics as xm
fn = getattr(xm, METRICS[{name!r}][0])
a, s = make_inputs(8)
fn(torch.from_numpy(a), torch.from_numpy(s.astype(bool)))  # warm up
a, s = make_inputs({n})
at, st = torch.from_numpy(a), torch.from_numpy(s.astype(bool))
del s
def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) / 1024
open("/proc/self/clear_refs", "w").write("5")
base = status("VmHWM")
fn(at, st)
print(json.dumps({{"inputs_mb": (at.numel() * 4 + st.numel()) / 2**20,
                   "extra_peak_mb": status("VmHWM") - base}}))
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=256)
    p.add_argument("--memory-n", type=int, default=1024)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--device", default="cpu")
    p.add_argument("--skip-quantus", action="store_true")
    p.add_argument("--skip-memory", action="store_true")
    p.add_argument("--json", help="also write the results to this file")
    args = p.parse_args()
    warnings.filterwarnings("ignore")

    a, s = make_inputs(args.n)
    print(f"# {args.n} maps of 224x224 float32, torch {torch.__version__} ({torch.get_num_threads()} threads), "
          f"numpy {np.__version__}, {platform.processor() or platform.machine()}, device {args.device}")
    results = {}
    header = f"{'metric':6s} {'xaikit ms/sample':>17s} {'quantus ms/sample':>18s} {'speed-up':>9s} {'max |diff|':>11s}"
    print(header)
    for name in METRICS:
        t_x, out_x = time_xaikit(name, a, s, args.repeat, args.device)
        row = {"xaikit_ms_per_sample": 1000 * t_x / args.n}
        if not args.skip_quantus:
            t_q, out_q = time_quantus(name, a, s)
            row["quantus_ms_per_sample"] = 1000 * t_q / args.n
            row["speedup"] = t_q / t_x
            row["max_abs_diff"] = float(np.nanmax(np.abs(out_x - out_q)))
        results[name] = row
        print(f"{name:6s} {row['xaikit_ms_per_sample']:17.3f} {row.get('quantus_ms_per_sample', float('nan')):18.2f} "
              f"{row.get('speedup', float('nan')):8.0f}x {row.get('max_abs_diff', float('nan')):11.2e}")
    if not args.skip_memory:
        print(f"# peak memory at N = {args.memory_n} (CPU, RSS growth over the inputs)")
        for name in METRICS:
            m = peak_memory_mb(name, args.memory_n)
            results[name]["memory"] = {"n": args.memory_n, **m}
            print(f"{name:6s} inputs {m['inputs_mb']:7.0f} MB   extra peak {m['extra_peak_mb']:7.0f} MB")
    print("# ru_maxrss of this process:", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, "MB")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"n": args.n, "device": args.device, "results": results}, f, indent=2)


if __name__ == "__main__":
    main()
