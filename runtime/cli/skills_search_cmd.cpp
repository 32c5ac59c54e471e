// `warden skills search`: BM25F selection over the catalog, one query (with --explain: per-field and per-term
// contributions) or a file of queries (--queries FILE.jsonl: one {"id","query"} per line in, one
// {"id","results":[{"name","score"}]} per line out).
#include <cstdio>
#include <fstream>
#include <sstream>

#include "runtime/cli/commands.h"
#include "runtime/cli/skills_flags.h"

namespace warden::cli {

namespace {

struct SearchFlags {
  SkillsCatalogFlags catalog;
  std::string query;
  std::string queries_file;
  int k = 10;
  bool explain = false;
  double k1 = -1, b = -1;
  bool plain = false;
};

void RunQueryFile(CliContext& ctx, const skills::Catalog& catalog, const SearchFlags& f) {
  std::ifstream in(f.queries_file);
  if (!in) return ctx.Fail(Status::IoError("cannot open " + f.queries_file, errno), "check the --queries path");
  std::string line;
  for (int line_no = 1; std::getline(in, line); ++line_no) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = f.queries_file + ":" + std::to_string(line_no);
    nlohmann::json q;
    try {
      q = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      return ctx.Fail(Status::InvalidArgument(where + ": invalid JSON: " + e.what()),
                      "each line must be one object {\"id\", \"query\"}");
    }
    if (!q.is_object() || !q.contains("query") || !q["query"].is_string()) {
      return ctx.Fail(Status::InvalidArgument(where + ": field query: expected a string"),
                      "each line must be one object {\"id\", \"query\"}");
    }
    nlohmann::json id = q.contains("id") ? q["id"] : nlohmann::json(line_no);
    auto sel = catalog.Search(q["query"].get<std::string>(), f.k, f.explain);
    if (!sel.ok()) return ctx.Fail(sel.status());
    if (ctx.json) {
      nlohmann::json out{{"id", id}, {"results", sel->ToJson()["results"]}};
      std::fputs((out.dump() + "\n").c_str(), stdout);
    } else {
      std::string text = (id.is_string() ? id.get<std::string>() : id.dump()) + ":";
      for (const auto& h : sel->hits) {
        char buf[64];
        std::snprintf(buf, sizeof buf, " %.3f", h.score);
        text += " " + h.name + buf;
      }
      std::fputs((text + "\n").c_str(), stdout);
    }
  }
}

}  // namespace

void RegisterSkillsSearch(CLI::App& group, CliContext& ctx) {
  auto* cmd = group.add_subcommand("search", "Select skills for a task by BM25F (ranked, with scores)");
  auto f = std::make_shared<SearchFlags>();
  cmd->add_option("QUERY", f->query, "What the task needs, in words");
  cmd->add_option("-k", f->k, "How many skills to return (default 10)")->check(CLI::Range(1, 100000));
  cmd->add_flag("--explain", f->explain, "Show each result's per-field and per-term score contributions");
  cmd->add_option("--queries", f->queries_file,
                  "Answer every query of a JSON-lines file ({\"id\",\"query\"} per line); with --json one "
                  "{\"id\",\"results\"} line per query");
  cmd->add_option("--k1", f->k1, "BM25 k1 (term-frequency saturation; default 1.2)")->check(CLI::Range(0.0, 100.0));
  cmd->add_option("--b", f->b, "BM25 b for every field (length normalisation, 0-1; default per field)")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_flag("--plain", f->plain,
                "Reference conventions: one name+description+tags text, no identifier splitting, k1 1.2, b 0.75");
  AddCatalogFlag(cmd, f->catalog);
  cmd->callback([&ctx, f] {
    if (f->query.empty() == f->queries_file.empty()) {
      return ctx.Fail(Status::InvalidArgument("pass either QUERY or --queries FILE"),
                      "warden skills search \"convert csv to json\"", kExitUsage);
    }
    skills::RankingOptions ranking = f->plain ? skills::RankingOptions::Reference() : skills::RankingOptions{};
    if (f->k1 >= 0) ranking.k1 = f->k1;
    if (f->b >= 0) {
      ranking.b = f->b;
      for (double& fb : ranking.field_b) fb = f->b;
    }
    auto catalog = OpenCatalog(ctx, f->catalog, ranking);
    if (!catalog.ok()) return ctx.Fail(catalog.status(), "pass --catalog DIR or fix paths.skills in the config");
    WarnRejections(ctx, **catalog);
    if (!f->queries_file.empty()) return RunQueryFile(ctx, **catalog, *f);
    auto sel = (*catalog)->Search(f->query, f->k, f->explain);
    if (!sel.ok()) return ctx.Fail(sel.status());
    std::ostringstream t;
    if (sel->hits.empty()) t << "no skill matches (catalog of " << (*catalog)->size() << " skills)\n";
    int rank = 0;
    for (const auto& h : sel->hits) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%7.3f", h.score);
      t << ++rank << ". " << buf << "  " << h.name << "\n";
      if (f->explain) {
        t << "      fields:";
        for (const auto& fs : h.fields) {
          std::snprintf(buf, sizeof buf, "%.3f", fs.score);
          t << " " << skills::FieldName(fs.field) << "=" << buf;
        }
        t << "\n      terms: ";
        for (const auto& [term, s] : h.terms) {
          std::snprintf(buf, sizeof buf, "%.3f", s);
          t << " " << term << "=" << buf;
        }
        t << "\n";
      }
    }
    ctx.Emit(sel->ToJson(), t.str());
  });
}

}  // namespace warden::cli
