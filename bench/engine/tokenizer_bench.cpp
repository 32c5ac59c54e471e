// Encode throughput of warden::engine::Tokenizer (../shared/docs/model.md §6) on one core, for
// bench/engine/tokenizer_vs_js.sh, which runs the JS peer (@lenml/tokenizers) on the same texts.
//
// Workloads, both built from ../shared/fixtures/tokenizer/qwen3_cases.jsonl:
//   20kb_mixed  the fixture's 20 KB mixed-language case text
//   2mb_varied  every encode case text (prose, code, CJK, Arabic, emoji, special tokens ...) repeated to ≥ 2 MB
// Usage: warden_tokenizer_bench TOKENIZER_JSON CASES_JSONL [DUMP_DIR]
// With DUMP_DIR the workload texts are written there as <name>.txt so the peer can read the same bytes.
// Prints one line per workload: "<name> <bytes> <tokens> <MB/s cold> <MB/s warm>" (MB = 1e6 bytes); cold is the
// first encode on a fresh tokenizer, warm the mean over repeats for at least one second. Time is the process's CPU
// time, not wall time, so other jobs on a shared machine do not count against either side.
#include <time.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "runtime/engine/tokenizer/tokenizer.h"

namespace {

double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: " << argv[0] << " TOKENIZER_JSON CASES_JSONL [DUMP_DIR]\n";
    return 2;
  }
  std::vector<std::pair<std::string, std::string>> workloads;
  {
    std::ifstream in(argv[2]);
    if (!in) {
      std::cerr << "cannot read " << argv[2] << "\n";
      return 1;
    }
    std::string line, mixed, varied_unit;
    while (std::getline(in, line)) {
      auto c = nlohmann::json::parse(line);
      if (!c.contains("text")) continue;
      const auto text = c["text"].get<std::string>();
      if (c["name"] == "public_20kb_mixed")
        mixed = text;
      else
        varied_unit += text + "\n";
    }
    if (mixed.empty() || varied_unit.empty()) {
      std::cerr << argv[2] << " lacks public_20kb_mixed or encode cases\n";
      return 1;
    }
    std::string varied;
    while (varied.size() < 2'000'000) varied += varied_unit + mixed;
    workloads = {{"20kb_mixed", mixed}, {"2mb_varied", varied}};
  }
  if (argc > 3) {
    for (const auto& [name, text] : workloads) std::ofstream(std::string(argv[3]) + "/" + name + ".txt") << text;
  }
  for (const auto& [name, text] : workloads) {
    // A fresh tokenizer per workload so "cold" starts with an empty word cache.
    const double t0 = CpuSeconds();
    auto tok = warden::engine::Tokenizer::FromFile(argv[1]);
    const double t1 = CpuSeconds();
    if (!tok.ok()) {
      std::cerr << tok.status().ToString() << "\n";
      return 1;
    }
    std::cerr << "loaded " << argv[1] << " in " << t1 - t0 << " s of CPU\n";
    double start = CpuSeconds();
    auto ids = tok->Encode(text);
    const double cold = CpuSeconds() - start;
    if (!ids.ok()) {
      std::cerr << ids.status().ToString() << "\n";
      return 1;
    }
    int reps = 0;
    start = CpuSeconds();
    double elapsed = 0;
    while (elapsed < 1.0 || reps < 3) {
      auto again = tok->Encode(text);
      if (!again.ok() || again->size() != ids->size()) return 1;
      ++reps;
      elapsed = CpuSeconds() - start;
    }
    const double mb = static_cast<double>(text.size()) / 1e6;
    std::printf("%s %zu %zu %.2f %.2f\n", name.c_str(), text.size(), ids->size(), mb / cold, mb * reps / elapsed);
  }
  return 0;
}
