#!/usr/bin/env bash
# Installs what nwd needs on a fresh Debian 12 machine and builds it:
# Debian's Rust toolchain with the wasm32 std, lld and binaryen (apt), then npm ci and the build.
set -euo pipefail
cd "$(dirname "$0")/.."
pkgs=(rustc cargo libstd-rust-dev-wasm32 lld-14 binaryen)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "setup: installing ${missing[*]} (apt)" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
npm ci --no-audit --no-fund >&2
npm run build >&2
