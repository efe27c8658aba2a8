"""Measures `interrogate signals` on synthetic studies (docs/benchmarks.md §5): N sessions from
scripts/benchmark.py's generator, each model reply given a logprobs.jsonl line whose tokens spell
it (3 alternatives per token, random log-probabilities, so the AUROCs are near 0.5). Prints wall
time, CPU seconds and peak memory of the release binary, the fastest of --rounds runs. A
benchmark, not a test.

Run: .venv/bin/python scripts/signals_benchmark.py 1000 10000 [--rounds 3] [--resamples 2000]
"""
import argparse
import json
import os
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchmark  # noqa: E402


def add_logprobs(root: Path, seed: int = 1) -> int:
    rng = random.Random(seed)
    replies = 0
    for f in sorted(root.rglob("session.jsonl")):
        out = []
        for line in f.read_text().splitlines():
            e = json.loads(line)
            if e.get("type") == "message" and e.get("role") == "model":
                tokens = []
                for i, w in enumerate(e["text"].split(" ")):
                    t = (" " if i else "") + w
                    lp = -abs(rng.gauss(0.5, 0.5))
                    tokens.append({"token": t, "logprob": lp,
                                   "top": [{"token": t, "logprob": lp}, {"token": "x", "logprob": lp - 1}, {"token": "y", "logprob": lp - 2}]})
                out.append(json.dumps({"message_index": e["index"], "top_logprobs": 3, "tokens": tokens}))
                replies += 1
        (f.parent / "logprobs.jsonl").write_text("\n".join(out) + "\n")
    return replies


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("sizes", nargs="+", type=int)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--resamples", type=int, default=2000)
    a = ap.parse_args()
    if not benchmark.BIN.exists():
        sys.exit(f"build the release binary first: {benchmark.BIN}")
    print(f"machine: {os.cpu_count()} cores; interrogate {benchmark.BIN}; fastest of {a.rounds}; {a.resamples} resamples")
    print("| sessions | replies with logprobs | wall | CPU | peak memory |")
    print("|---:|---:|---:|---:|---:|")
    for n in a.sizes:
        with tempfile.TemporaryDirectory() as d:
            root = Path(d)
            benchmark.generate(root, n)
            replies = add_logprobs(root)
            with open(root / "out.txt", "w") as out:
                runs = [benchmark.measure_once([str(benchmark.BIN), "signals", str(root), "--resamples", str(a.resamples),
                                                "--format", "json"], out) for _ in range(a.rounds)]
            wall, rss, cpu = min(runs)
            print(f"| {n:,} | {replies:,} | {wall:.2f} s | {cpu:.2f} s | {rss:.0f} MiB |")


if __name__ == "__main__":
    main()
