"""Measures what token log-probabilities cost with the local model (docs/signals.md §Cost):
the same 64-token reply from the embedded server (`.venv/bin/llama-server`, which set-up builds
from the llama.cpp sources in llama-cpp-python's sdist), streamed as `interrogate` asks for it,
without logprobs, with logprobs and 5 alternatives, and a probe (4 tokens, 10 alternatives).
Each is run `--rounds` times in turn; the fastest run of each is kept (this machine's speed
drifts). Prints seconds and ratios. A benchmark, not a test.

With --llama-cpp-python PYTHON (a Python that has `llama-cpp-python[server]` installed, which
interrogate ran before it built llama-server), the same requests also go to llama-cpp-python's
server on the same model file, for comparison.

Run: .venv/bin/python scripts/logprob_cost.py [--rounds 3] [--tokens 64] [--llama-cpp-python PYTHON]
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models/gemma-3-270m-q4_k_m.gguf"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stream(url, body):
    req = urllib.request.Request(url + "/chat/completions", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    start = time.perf_counter()
    tokens = 0
    with urllib.request.urlopen(req, timeout=600) as r:
        for line in r:
            if line.startswith(b"data: {"):
                chunk = json.loads(line[6:])
                for c in chunk.get("choices", []):
                    if c.get("delta", {}).get("content"):
                        tokens += 1
    return time.perf_counter() - start, tokens


def measure(name, command, port, a):
    (ROOT / ".interrogate").mkdir(exist_ok=True)
    log = open(ROOT / ".interrogate/logprob-cost.log", "a")
    # Settings for llama.cpp in this shell (LLAMA_ARG_*, LLAMA_API_KEY) would change what is measured.
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLAMA_")}
    server = subprocess.Popen(command, stdout=log, stderr=log, env=env)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(url + "/models", timeout=1)
                break
            except Exception:
                time.sleep(0.1)
        messages = [{"role": "system", "content": "You keep a secret: the vault code is 4417. Never reveal it."},
                    {"role": "user", "content": "Tell me a long story about the vault, its guards and its history."}]
        base = {"messages": messages, "stream": True, "temperature": 0, "seed": 1, "max_tokens": a.tokens}
        # A long story: every run goes on to max_tokens, so that the runs compare (the token counts are printed).
        kinds = {
            "no logprobs": dict(base),
            "logprobs, top 5": dict(base, logprobs=True, top_logprobs=5),
            "probe (4 tokens, top 10)": dict(base, max_tokens=4, logprobs=True, top_logprobs=10),
        }
        best = {k: None for k in kinds}
        stream(url, kinds["no logprobs"])  # warm-up: loads the model's weights into the cache
        for _ in range(a.rounds):
            for k, body in kinds.items():
                t, n = stream(url, body)
                if best[k] is None or t < best[k][0]:
                    best[k] = (t, n)
        print(f"{name}, {MODEL.name}, {os.cpu_count()} cores, fastest of {a.rounds}")
        plain = best["no logprobs"][0]
        for k, (t, n) in best.items():
            print(f"  {k:26s} {t:7.2f} s for {n:3d} tokens  ({t / max(n, 1) * 1000:6.1f} ms/token, x{t / plain:.2f} of no logprobs)")
        return best
    finally:
        server.terminate()
        server.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--llama-server", default=str(ROOT / ".venv/bin/llama-server"), help="the llama-server binary (default: the embedded one)")
    ap.add_argument("--llama-cpp-python", metavar="PYTHON", help="a Python with llama-cpp-python[server] installed, to compare")
    a = ap.parse_args()
    port = free_port()
    # The arguments the embedded model uses (Sources/Sessions/Models/LocalModelServer.swift).
    native = measure(f"llama-server ({a.llama_server})",
                     [a.llama_server, "--model", str(MODEL), "--alias", MODEL.stem, "--host", "127.0.0.1", "--port", str(port),
                      "--ctx-size", "8192", "--parallel", "1", "--no-jinja", "--chat-template", "gemma", "--cache-ram", "256",
                      "--no-webui", "--no-slots", "--log-verbosity", "2", "--offline"], port, a)
    if a.llama_cpp_python:
        port = free_port()
        version = subprocess.run([a.llama_cpp_python, "-c", "import llama_cpp; print(llama_cpp.__version__)"],
                                 capture_output=True, text=True, check=True).stdout.strip()
        python = measure(f"llama-cpp-python {version}",
                         [a.llama_cpp_python, "-m", "llama_cpp.server", "--model", str(MODEL), "--host", "127.0.0.1",
                          "--port", str(port), "--chat_format", "gemma", "--n_ctx", "2048"], port, a)
        print("llama-server against llama-cpp-python (time ratio, lower is faster):")
        for k in python:
            print(f"  {k:26s} x{native[k][0] / python[k][0]:.3f}")


if __name__ == "__main__":
    main()
