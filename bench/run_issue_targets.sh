#!/usr/bin/env bash
# Runs the benchmarks that carry an issue's speed target, one after another, each printing its own table with the
# target beside the result. Meant for a quiet machine: the load average is printed before each so a reader can
# tell a quiet run from a shared one. Usage: bench/run_issue_targets.sh [BUILD_DIR]  (default build-bench,
# configured with -DWARDEN_BENCH=ON; the targets are built first).
set -euo pipefail
build=${1:-build-bench}
targets=(warden_audit_throughput_bench warden_policy_eval_bench warden_sandbox_spawn_bench warden_sandbox_net_bench
         warden_retrieval_bench)
ninja -C "$build" "${targets[@]}" >/dev/null
run() {
  echo "=== $* (load: $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%H:%M:%S) UTC)"
  "$@"
  echo
}
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), kernel $(uname -r)"
run "$build/bench/audit_throughput/warden_audit_throughput_bench" --events 200000
run "$build/bench/policy_eval/warden_policy_eval_bench"
run "$build/bench/sandbox_spawn/warden_sandbox_spawn_bench" 200
run "$build/bench/sandbox_net/warden_sandbox_net_bench" 200
run "$build/bench/retrieval/warden_retrieval_bench" --latency
