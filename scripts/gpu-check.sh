#!/usr/bin/env bash
# GPU check of the CUDA backend (issue 10), meant to run on an H100/H200 machine in under 8 minutes:
#   1. builds the CUDA backend (Release, sm_90a) and the three suites it needs (JOBS parallel jobs);
#   2. runs the backend op table ([gpu]): every CUDA op against its CPU reference on random inputs;
#   3. runs every test of the model suite with WARDEN_TEST_BACKEND=cuda (the golden tests: tiny-a, tiny-c text,
#      continuation, greedy, NVFP4, mixed weight-only and W8A8; image/video goldens need the vision ops, which
#      the CUDA backend does not have yet);
#   4. compares CUDA and CPU logits of every fixture checkpoint on random prompts and greedy decode steps;
#   5. runs compute-sanitizer memcheck and racecheck on one short prompt;
#   6. if time is left, times `warden model bench --synthetic` on the full Qwen3.6-27B config (NVIDIA layout).
# Prints one table (test | max rel error | tolerance | pass) and writes it to $OUT/gpu-check.md (or
# build-gpu/gpu-check/). Exit status 0 only when every row passes; 3 when no GPU is visible (a dry run of the
# script itself: the [gpu] tests skip, the golden tests fail to make the CUDA backend).
#
# Environment: WARDEN_SHARED_DIR (fixtures; default: ./shared, ../shared, /work/shared), WARDEN_GPU_BUILD_DIR
# (default build-gpu), JOBS (default nproc).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${WARDEN_GPU_BUILD_DIR:-$ROOT/build-gpu}
JOBS=${JOBS:-$(nproc)}
RESULTS=${OUT:-$BUILD/gpu-check}
mkdir -p "$RESULTS"
REPORT=$RESULTS/report.txt   # name|error|tolerance|pass lines written by the tests
ROWS=$RESULTS/rows.txt       # the table's rows, same format
LOG=$RESULTS/log.txt
: >"$REPORT"
: >"$ROWS"
: >"$LOG"
START=$(date +%s)
elapsed() { echo $(($(date +%s) - START)); }
row() { printf '%s|%s|%s|%s\n' "$1" "$2" "$3" "$4" >>"$ROWS"; }
say() { printf '[gpu-check %3ss] %s\n' "$(elapsed)" "$*"; }

SHARED=${WARDEN_SHARED_DIR:-}
if [[ -z $SHARED ]]; then
  for d in "$ROOT/shared" "$ROOT/../shared" /work/shared; do
    if [[ -d $d/fixtures/qwen3_5-tiny-c ]]; then SHARED=$(cd "$d" && pwd); break; fi
  done
fi
if [[ -z $SHARED || ! -d $SHARED/fixtures ]]; then
  echo "gpu-check: fixtures not found; set WARDEN_SHARED_DIR to the shared folder holding fixtures/" >&2
  exit 2
fi
export WARDEN_SHARED_DIR=$SHARED

SANITIZER=$(command -v compute-sanitizer || true)
for c in /usr/local/cuda/bin/compute-sanitizer /usr/local/cuda/compute-sanitizer/compute-sanitizer; do
  [[ -z $SANITIZER && -x $c ]] && SANITIZER=$c
done
CARD=$(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | head -1)
CARD=${CARD:-unknown (nvidia-smi missing)}
GPU_VISIBLE=1
nvidia-smi -L >/dev/null 2>&1 || GPU_VISIBLE=0
say "card: $CARD; shared: $SHARED; build: $BUILD; jobs: $JOBS"
((GPU_VISIBLE)) || say "no GPU visible: a dry run of the script; nothing below is checked on a GPU"

# ---- 1. build ---------------------------------------------------------------------------------------------
# The suites first (they need only the engine library); the warden binary, which links every subsystem, only
# for the optional synthetic bench at the end.
TARGETS=(warden_engine_backend_tests warden_engine_cuda_tests warden_engine_model_tests)
GEN=Ninja
command -v ninja >/dev/null 2>&1 || GEN="Unix Makefiles"
NVCC=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
[[ -x $NVCC ]] || say "nvcc not found on PATH or in /usr/local/cuda/bin: the configure step will fail"
t0=$(date +%s)
# CUDACXX is read only when a build folder is first configured, so an existing folder keeps its compiler.
if CUDACXX=$NVCC timeout 300 cmake -S "$ROOT" -B "$BUILD" -G "$GEN" -DCMAKE_BUILD_TYPE=Release -DWARDEN_CUDA=ON \
     -DWARDEN_SHARED_DIR="$SHARED" >>"$LOG" 2>&1 &&
   timeout 300 cmake --build "$BUILD" -j "$JOBS" --target "${TARGETS[@]}" >>"$LOG" 2>&1; then
  row "build (CUDA backend + ${#TARGETS[@]} suites, $(($(date +%s) - t0)) s)" - - pass
else
  row "build ($(($(date +%s) - t0)) s; see $LOG)" - - FAIL
  tail -30 "$LOG"
fi
BIN=$BUILD/runtime/engine
OPS=$BIN/warden_engine_backend_tests
CUDA_TESTS=$BIN/warden_engine_cuda_tests
MODEL=$BIN/models/warden_engine_model_tests

# Runs a Catch2 binary with the junit reporter; adds one row per test case from it (worst reported error of the
# case's comparisons when the tests wrote any under `prefix`).
run_suite() {  # label timeout prefix binary args...
  local label=$1 limit=$2 prefix=$3 bin=$4
  shift 4
  local xml=$RESULTS/$label.xml
  if [[ ! -x $bin ]]; then row "$label: binary missing" - - FAIL; return; fi
  say "$label"
  WARDEN_GPU_CHECK_REPORT=$REPORT timeout "$limit" "$bin" "$@" -r junit -o "$xml" >>"$LOG" 2>&1
  local rc=$?
  [[ $rc == 124 ]] && row "$label: timed out after $limit s" - - FAIL
  python3 - "$xml" "$REPORT" "$prefix" "$label" >>"$ROWS" <<'PY'
import sys, xml.etree.ElementTree as ET
xml, report, prefix, label = sys.argv[1:5]
worst = {}
for line in open(report, encoding="utf-8", errors="replace"):
    parts = line.rstrip("\n").split("|")
    if len(parts) == 4 and parts[0].startswith(prefix + " "):
        test = parts[0][len(prefix) + 1:].split(" / ")[0]
        try:
            worst[test] = max(worst.get(test, 0.0), float(parts[1]))
        except ValueError:
            pass
try:
    root = ET.parse(xml).getroot()
except Exception as e:
    print(f"{label}: no junit output ({e})|-|-|FAIL")
    sys.exit(0)
for case in root.iter("testcase"):
    name = case.get("name", "?")
    failed = case.find("failure") is not None or case.find("error") is not None
    skipped = "SKIPPED" in "".join(t.text or "" for t in case.iter("system-out"))
    err = worst.get(name)
    print(f"{label}: {name}|{'-' if err is None else f'{err:.2e}'}|per test|{'FAIL' if failed else 'SKIP' if skipped else 'pass'}")
PY
}

# ---- 2. op table ------------------------------------------------------------------------------------------
run_suite ops 120 "op" "$OPS" "[gpu]"
grep '^op cuda: ' "$REPORT" | sed 's/^op cuda: /op: /' >>"$ROWS"

# ---- 3. golden tests on the CUDA backend -------------------------------------------------------------------
WARDEN_TEST_BACKEND=cuda run_suite golden 240 "golden" "$MODEL"

# ---- 4. CUDA vs CPU on random prompts ----------------------------------------------------------------------
before=$(wc -l <"$REPORT")
run_suite cuda-vs-cpu 180 "none" "$CUDA_TESTS" "[gpu]~[sanitizer]"
tail -n +"$((before + 1))" "$REPORT" | grep -v '^op \|^golden ' >>"$ROWS"

# ---- 5. compute-sanitizer -----------------------------------------------------------------------------------
for tool in memcheck racecheck; do
  if [[ -z $SANITIZER ]]; then row "compute-sanitizer $tool: not installed" - - FAIL; continue; fi
  if (($(elapsed) > 420)); then row "compute-sanitizer $tool: skipped, time budget spent" - - FAIL; continue; fi
  say "compute-sanitizer $tool"
  out=$RESULTS/sanitizer-$tool.txt
  timeout 150 "$SANITIZER" --tool "$tool" --error-exitcode 9 "$CUDA_TESTS" "[sanitizer]" >"$out" 2>&1
  rc=$?
  summary=$(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$out" | tail -1)
  row "compute-sanitizer $tool (one prompt): ${summary:-rc $rc}" - - "$([[ $rc == 0 ]] && echo pass || echo FAIL)"
done

# ---- 6. synthetic full-size model (speed is informational; the row passes when the logits are finite) -------
if (($(elapsed) < 300)); then
  say "building warden for the synthetic Qwen3.6-27B bench"
  timeout $((390 - $(elapsed))) cmake --build "$BUILD" -j "$JOBS" --target warden >>"$LOG" 2>&1 ||
    say "warden did not build in time (see $LOG)"
fi
if (($(elapsed) < 400)) && [[ -x $BUILD/warden ]]; then
  say "synthetic Qwen3.6-27B bench"
  python3 "$ROOT/bench/engine/qwen3_6_27b_config.py" "$RESULTS/qwen3_6_27b" >>"$LOG" 2>&1
  json=$RESULTS/bench-27b.json
  if timeout 150 "$BUILD/warden" --json model bench --synthetic "$RESULTS/qwen3_6_27b/config.json" --backend cuda \
       --prompt-tokens 512 --decode-tokens 16 --kv-dtype fp8 >"$json" 2>>"$LOG"; then
    line=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("27B NVIDIA layout synthetic: %.2f GiB in use, prefill 512 %.0f tok/s, decode %.2f tok/s, finite=%s" % (d["device_bytes_in_use"]/2**30, d["prefill_tokens_per_second"], d["decode_tokens_per_second"], d["finite"]))' "$json")
    row "$line" - - "$(grep -q '"finite": true' "$json" && echo pass || echo FAIL)"
  else
    row "27B synthetic bench failed (see $LOG)" - - FAIL
  fi
fi

# ---- table ---------------------------------------------------------------------------------------------------
TABLE=$RESULTS/gpu-check.md
{
  echo "GPU check on: $CARD ($(date -u +%Y-%m-%dT%H:%MZ), $(elapsed) s)"
  echo
  echo "| test | max rel error | tolerance | pass |"
  echo "|---|---|---|---|"
  awk -F'|' '{ printf "| %s | %s | %s | %s |\n", $1, $2, $3, $4 }' "$ROWS"
} >"$TABLE"
cat "$TABLE"
if ((!GPU_VISIBLE)); then
  echo "gpu-check: DRY RUN without a GPU (the [gpu] tests skipped themselves); no GPU result to report"
  exit 3
fi
if grep -q '|FAIL$' "$ROWS"; then
  echo "gpu-check: FAILED ($(grep -c '|FAIL$' "$ROWS") rows); log: $LOG"
  exit 1
fi
echo "gpu-check: all rows pass"
