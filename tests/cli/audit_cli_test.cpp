// End-to-end runs of `warden audit keygen|query|verify|export|stats|checkpoint` on a log seeded through the library
// (issue 5, CLI): exit codes, filters, formats, the 80-column table, tamper reports naming the seq, --db vs config.
#include <sqlite3.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <sstream>

#include "audit/audit_test_util.h"
#include "runtime/base/file_util.h"
#include "tests/support/test_support.h"

namespace warden::audit {
namespace {

using warden::testing::RunWarden;
using warden::testing::TempDir;

struct CliLog {
  TempDir home;
  std::filesystem::path db, key;
  std::vector<std::string> env;
  CliLog() {
    db = home.path() / "audit" / "audit.db";
    key = home.path() / "audit" / "audit.key";
    env = {"WARDEN_HOME=" + home.path().string()};
    auto kg = RunWarden({"audit", "keygen"}, "", env);
    REQUIRE(kg.exit_code == 0);
    Options o;
    o.path = db;
    o.key_path = key;
    o.checkpoint_every_events = 10;
    auto log = Log::Open(o);
    REQUIRE(log.ok());
    for (auto e : testutil::SampleEvents()) REQUIRE((*log)->Append(e).ok());
    for (int i = 0; i < 20; ++i) REQUIRE((*log)->Append(testutil::Simple(i)).ok());
  }
  testing::ProcessResult Run(std::vector<std::string> args) {
    args.insert(args.begin(), "audit");
    return RunWarden(args, "", env);
  }
};

TEST_CASE("audit keygen writes a 0600 key under the home and refuses a second time", "[audit][cli]") {
  CliLog l;
  struct stat st{};
  REQUIRE(::stat(l.key.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto again = l.Run({"keygen"});
  CHECK(again.exit_code == 1);
  CHECK(again.err.find("already exists") != std::string::npos);
  auto other = l.Run({"keygen", "--key", (l.home.path() / "k2").string(), "--json"});
  REQUIRE(other.exit_code == 0);
  CHECK(nlohmann::json::parse(other.out)["public_key"].get<std::string>().size() == 64);
}

TEST_CASE("audit query filters and formats - the table fits 80 columns", "[audit][cli]") {
  CliLog l;
  auto table = l.Run({"query"});
  REQUIRE(table.exit_code == 0);
  std::istringstream in(table.out);
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) {
    CHECK(line.size() <= 80);
    ++lines;
  }
  CHECK(lines == 14 + 20 + 2);
  auto deny = l.Run({"query", "--decision", "deny", "--format", "json"});
  REQUIRE(deny.exit_code == 0);
  auto j = nlohmann::json::parse(deny.out);
  REQUIRE(j.is_array());
  for (const auto& r : j) CHECK(r["decision"] == "deny");
  CHECK(j.size() == 1 + 7);  // the sample policy.decision and Simple(n) with n % 3 == 0
  auto typed = l.Run({"query", "--type", "model.call", "--format", "jsonl"});
  REQUIRE(typed.exit_code == 0);
  CHECK(nlohmann::json::parse(typed.out)["body"]["tokens"]["output"] == 300);
  auto combo = l.Run({"query", "--principal", "p1", "--task", "t1", "--action", "fs.read", "--since", "1h",
                      "--until", "2200-01-01T00:00:00Z", "--format", "csv"});
  REQUIRE(combo.exit_code == 0);
  CHECK(std::count(combo.out.begin(), combo.out.end(), '\n') == 1 + 1);  // header + Simple(1); n=1..19 with n%35==1
  auto none = l.Run({"query", "--skill", "nope", "--json"});
  REQUIRE(none.exit_code == 0);
  CHECK(nlohmann::json::parse(none.out).empty());
  auto future = l.Run({"query", "--since", "2200-01-01", "--format", "jsonl"});
  CHECK(future.out.empty());
  auto limited = l.Run({"query", "--limit", "3", "--format", "json"});
  auto lj = nlohmann::json::parse(limited.out);
  REQUIRE(lj.size() == 3);
  CHECK(lj[2]["seq"] == 34);
  CHECK(l.Run({"query", "--since", "soon"}).exit_code == 2);
  CHECK(l.Run({"query", "--decision", "perhaps"}).exit_code == 2);
}

TEST_CASE("audit verify: 0 on an intact log, 1 naming the seq after tampering", "[audit][cli]") {
  CliLog l;
  auto ok = l.Run({"verify", "--pubkey", (l.key.string() + ".pub")});
  INFO(ok.out << ok.err);
  REQUIRE(ok.exit_code == 0);
  CHECK(ok.out.find("OK: 34 events") != std::string::npos);
  {
    testutil::RawDb raw(l.db);
    raw.DropTriggers();
    raw.MustExec("UPDATE audit_event SET principal_id = 'mallory' WHERE seq = 17");
  }
  auto bad = l.Run({"verify"});
  CHECK(bad.exit_code == 1);
  CHECK(bad.out.find("HASH_MISMATCH at seq 17") != std::string::npos);
  auto bad_json = l.Run({"verify", "--json"});
  CHECK(bad_json.exit_code == 1);
  auto j = nlohmann::json::parse(bad_json.out);
  CHECK(j["ok"] == false);
  CHECK(j["problem"]["seq"] == 17);
  CHECK(j["problem"]["type"] == "HASH_MISMATCH");
  // A partial walk from 10 still meets row 17; one from 18 trusts row 18's stored link and passes.
  auto from = l.Run({"verify", "--from", "10"});
  CHECK(from.exit_code == 1);
  CHECK(from.out.find("at seq 17") != std::string::npos);
  CHECK(l.Run({"verify", "--from", "18"}).exit_code == 0);
}

TEST_CASE("audit export writes jsonl and csv files with the chain columns", "[audit][cli]") {
  CliLog l;
  const auto out = l.home.path() / "export.jsonl";
  auto r = l.Run({"export", "--format", "jsonl", "--out", out.string(), "--type", "policy.decision"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("exported 21 events") != std::string::npos);
  auto text = ReadFile(out);
  REQUIRE(text.ok());
  std::istringstream in(*text);
  std::string line;
  int n = 0, proof = 0;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    if (j.begin().key()[0] == '$') {  // the proof lines after the rows
      ++proof;
      continue;
    }
    CHECK(proof == 0);
    CHECK(j["kind"] == "policy.decision");
    CHECK(j["row_hash"].get<std::string>().size() == 64);
    ++n;
  }
  CHECK(n == 21);
  CHECK(proof > 0);
  // The export verifies on its own, pinned to the log's key; an edited row is named by its seq.
  auto v = l.Run({"verify", "--export", out.string(), "--pubkey", l.key.string() + ".pub"});
  INFO(v.out << v.err);
  CHECK(v.exit_code == 0);
  CHECK(v.out.find("OK: 21 events") != std::string::npos);
  std::string edited = *text;
  const size_t at = edited.find("\"decision\":\"allow\"");
  REQUIRE(at != std::string::npos);
  edited.replace(at, 18, "\"decision\":\"deny\"");
  REQUIRE(WriteFileAtomic(out, edited).ok());
  auto bad = l.Run({"verify", "--export", out.string()});
  CHECK(bad.exit_code == 1);
  CHECK(bad.out.find("FAILED: HASH_MISMATCH") != std::string::npos);
  const auto csv = l.home.path() / "export.csv";
  REQUIRE(l.Run({"export", "--format", "csv", "--out", csv.string()}).exit_code == 0);
  CHECK(ReadFile(csv)->rfind("seq,ts,event_id", 0) == 0);
  CHECK(ReadFile(csv.string() + ".proof.jsonl")->find("$checkpoint") != std::string::npos);
  CHECK(l.Run({"export", "--format", "table", "--out", csv.string()}).exit_code == 2);
  CHECK(l.Run({"export"}).exit_code == 2);  // --out is required
}

TEST_CASE("audit stats and checkpoint - --db overrides the config", "[audit][cli]") {
  CliLog l;
  auto st = l.Run({"stats", "--json"});
  REQUIRE(st.exit_code == 0);
  auto j = nlohmann::json::parse(st.out);
  CHECK(j["events"] == 34);
  CHECK(j["by_type"]["policy.decision"] == 21);
  CHECK(j["by_decision"]["deny"] == 8);
  CHECK(j["checkpoints"].get<int>() >= 3);
  const auto copy = l.home.path() / "notes.txt";
  auto cp = l.Run({"checkpoint", "--copy", copy.string(), "--json"});
  REQUIRE(cp.exit_code == 0);
  CHECK(nlohmann::json::parse(cp.out)["upto_seq"] == 34);
  auto verified = l.Run({"verify", "--checkpoints", copy.string()});
  INFO(verified.out << verified.err);
  CHECK(verified.exit_code == 0);
  CHECK(verified.out.find("events after the last checkpoint") == std::string::npos);
  // --db points elsewhere: a missing file is a clear error naming it.
  auto missing = l.Run({"stats", "--db", (l.home.path() / "none.db").string()});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.find("none.db") != std::string::npos);
  // The config's audit_db (here via the environment) is what the verbs read by default.
  auto env_db = RunWarden({"audit", "stats", "--json"}, "",
                          {"WARDEN_HOME=" + l.home.path().string(), "WARDEN_AUDIT_DB=" + l.db.string()});
  REQUIRE(env_db.exit_code == 0);
  CHECK(nlohmann::json::parse(env_db.out)["events"] == 34);
  // Checkpoint without a key says how to make one.
  auto nokey = l.Run({"checkpoint", "--key", (l.home.path() / "absent.key").string()});
  CHECK(nokey.exit_code == 1);
  CHECK(nokey.err.find("warden audit keygen") != std::string::npos);
}

TEST_CASE("audit prune archives behind a signed anchor - rotate-key hands over the signing key", "[audit][cli]") {
  CliLog l;
  CHECK(l.Run({"prune"}).exit_code == 2);  // needs --before or --keep-days
  CHECK(l.Run({"prune", "--before", "yesterday-ish"}).exit_code == 2);
  auto none = l.Run({"prune", "--keep-days", "30", "--json"});
  REQUIRE(none.exit_code == 0);
  CHECK(nlohmann::json::parse(none.out)["pruned"] == false);
  const auto archive = l.home.path() / "old.jsonl";
  auto held = l.Run({"prune", "--keep-days", "0", "--archive", archive.string(), "--legal-hold"});
  CHECK(held.exit_code == 1);
  CHECK(held.err.find("legal hold") != std::string::npos);
  auto r = l.Run({"prune", "--keep-days", "0", "--archive", archive.string(), "--json"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["pruned"] == true);
  CHECK(j["pruned_rows"] == 34);
  CHECK(j["first_kept_seq"] == 35);
  auto v = l.Run({"verify"});
  CHECK(v.exit_code == 0);
  CHECK(v.out.find("seq 35..35") != std::string::npos);  // only the audit.pruned event is left
  CHECK(l.Run({"verify", "--export", archive.string(), "--pubkey", l.key.string() + ".pub"}).exit_code == 0);

  const std::string old_pub = *ReadFile(l.key.string() + ".pub");
  auto rot = l.Run({"rotate-key", "--json"});
  INFO(rot.out << rot.err);
  REQUIRE(rot.exit_code == 0);
  const std::string new_pub = *ReadFile(l.key.string() + ".pub");
  CHECK(new_pub != old_pub);
  CHECK(nlohmann::json::parse(rot.out)["public_key"].get<std::string>() + "\n" == new_pub);
  CHECK(std::filesystem::exists(nlohmann::json::parse(rot.out)["retired_key"].get<std::string>()));
  {
    // The next writer signs with the key now at the configured path, the new one.
    Options o;
    o.path = l.db;
    o.key_path = l.key;
    auto log = Log::Open(o);
    REQUIRE(log.ok());
    REQUIRE((*log)->Append(testutil::Simple(99)).ok());
  }
  auto pinned_both = l.Run({"verify", "--pubkey", old_pub.substr(0, 64), "--pubkey", new_pub.substr(0, 64)});
  INFO(pinned_both.out);
  CHECK(pinned_both.exit_code == 0);
  auto only_old = l.Run({"verify", "--pubkey", old_pub.substr(0, 64)});
  CHECK(only_old.exit_code == 1);
  CHECK(only_old.out.find("BAD_SIGNATURE") != std::string::npos);
}

}  // namespace
TEST_CASE("audit verify --deep adds the canonical check - stats reports free disk space and warns under the threshold",
          "[audit][cli]") {
  CliLog l;
  auto deep = l.Run({"verify", "--deep", "--json"});
  INFO(deep.out << deep.err);
  REQUIRE(deep.exit_code == 0);
  CHECK(nlohmann::json::parse(deep.out)["deep"] == true);
  auto help = l.Run({"verify", "--help"});
  CHECK(help.out.find("--deep") != std::string::npos);
  {
    // A body re-written in non-canonical form with the chain recomputed after it and no checkpoint over it: only
    // the deep check can see it.
    testutil::RawDb raw(l.db);
    raw.DropTriggers();
    raw.MustExec("DELETE FROM checkpoint");
    raw.MustExec("UPDATE audit_event SET body = ' ' || body WHERE seq = 30");
    raw.Rechain(30);
  }
  CHECK(l.Run({"verify"}).exit_code == 0);
  auto caught = l.Run({"verify", "--deep"});
  CHECK(caught.exit_code == 1);
  CHECK(caught.out.find("NONCANONICAL_BODY at seq 30") != std::string::npos);

  auto stats = l.Run({"stats", "--json"});
  REQUIRE(stats.exit_code == 0);
  auto j = nlohmann::json::parse(stats.out);
  CHECK(j["disk"]["total_bytes"].get<uint64_t>() > 0);
  CHECK(j["disk"]["free_bytes"].get<uint64_t>() <= j["disk"]["total_bytes"].get<uint64_t>());
  CHECK(j["disk"]["low"] == (j["disk"]["free_bytes"].get<uint64_t>() < (uint64_t{1024} << 20)));
  // A threshold above any disk's size always warns, in words that say what to do.
  auto low = l.Run({"stats", "--warn-free-mib", "1000000000"});
  REQUIRE(low.exit_code == 0);
  CHECK(low.out.find("warning: less than 1000000000 MiB free") != std::string::npos);
  CHECK(low.out.find("warden audit prune") != std::string::npos);
  auto fine = l.Run({"stats", "--warn-free-mib", "0"});
  CHECK(fine.out.find("warning:") == std::string::npos);
  CHECK(fine.out.find("disk free") != std::string::npos);
}

}  // namespace warden::audit
