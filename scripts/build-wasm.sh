#!/usr/bin/env bash
# Builds crates/nwd-core to dist/nwd_core.wasm with Debian's toolchain (see rust-toolchain.toml).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/bin:$PATH"   # Debian's cargo/rustc before rustup's shims
cargo build --release --offline --locked -p nwd-core --target wasm32-unknown-unknown
mkdir -p dist
src=target/wasm32-unknown-unknown/release/nwd_core.wasm
if command -v wasm-opt >/dev/null 2>&1; then
  wasm-opt -O3 --enable-simd "$src" -o dist/nwd_core.wasm
else
  echo "build-wasm: wasm-opt not found (apt install binaryen); using the unoptimised module" >&2
  cp "$src" dist/nwd_core.wasm
fi
echo "build-wasm: dist/nwd_core.wasm $(stat -c %s dist/nwd_core.wasm) bytes" >&2
