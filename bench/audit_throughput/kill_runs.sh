#!/usr/bin/env bash
# 100 kill -9 runs against the audit writer (issue 5, crash safety; policy-audit.md B.9 R1/R2). Each run starts
# warden_audit_crash_child on the same database, kills it with SIGKILL after a random 0.1-1.0 s, then checks that
# the last event it saw acknowledged is stored with its content and that `warden audit verify` passes.
# Usage: bench/audit_throughput/kill_runs.sh [BUILD_DIR] [RUNS]   (BUILD_DIR needs -DWARDEN_BENCH=ON; default
# build-bench; WARDEN=path/to/warden picks the CLI from another build)
set -euo pipefail
build=${1:-build-bench}
runs=${2:-100}
child="$build/bench/audit_throughput/warden_audit_crash_child"
warden=${WARDEN:-$build/warden}
for tool in "$child" "$warden"; do
  [[ -x $tool ]] || { echo "missing $tool: build it with ninja -C $build warden warden_audit_crash_child" >&2; exit 2; }
done
command -v sqlite3 >/dev/null || { echo "needs the sqlite3 command (apt-get install sqlite3)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
db="$work/audit.db"
"$warden" audit keygen --key "$work/audit.key" --db "$db" >/dev/null
ok=0
next_n=0
total_acked=0
for ((run = 1; run <= runs; run++)); do
  "$child" "$db" "$work/audit.key" "$next_n" >"$work/acks" 2>"$work/err" &
  pid=$!
  sleep "0.$((RANDOM % 10))$((RANDOM % 10))"
  sleep 0.1
  kill -9 "$pid"
  wait "$pid" 2>/dev/null || true
  # The last complete line is the last acknowledgement the child printed before it died.
  last=$(grep -E '^[0-9]+ [0-9]+$' "$work/acks" | tail -n 1 || true)
  acked=$(grep -cE '^[0-9]+ [0-9]+$' "$work/acks" || true)
  total_acked=$((total_acked + acked))
  present=yes
  if [[ -n $last ]]; then
    read -r seq n <<<"$last"
    stored=$(sqlite3 "$db" "SELECT json_extract(body, '\$.n') FROM audit_event WHERE seq = $seq")
    [[ $stored == "$n" ]] || present=no
    next_n=$((n + 1000000))
  fi
  if "$warden" audit verify --db "$db" >"$work/verify" 2>&1 && [[ $present == yes ]]; then
    ok=$((ok + 1))
  else
    echo "run $run: acknowledged ($last) present: $present; verify: $(head -n 1 "$work/verify")"
  fi
  rows=$(sqlite3 "$db" "SELECT count(*) FROM audit_event")
  printf 'run %3d: %6d acknowledged this run, last %-18s stored: %-3s rows now %d\n' \
    "$run" "$acked" "${last:-none}" "$present" "$rows"
done
echo "$ok/$runs runs: every acknowledged event present and the chain verified ($total_acked acknowledgements in all)"
[[ $ok == "$runs" ]]
