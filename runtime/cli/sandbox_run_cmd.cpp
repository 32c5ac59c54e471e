// `warden sandbox run`: runs any program the way a skill runs (sandbox.md Part C) and prints its output, then a
// one-line result on stderr; with --json only the result document (the one the audit log stores, output inside).
// Exit code: the program's own (128+N when it died of signal N on its own), 5 when the sandbox killed it or
// refused a call it then died of (timeout, oom, cpu_limit, output_limit, policy_kill, abi_kill), 1 on a setup
// error, 2 on bad flags.
#include <unistd.h>

#include <cctype>
#include <iostream>
#include <iterator>
#include <sstream>

#include "runtime/cli/commands.h"
#include "sandbox/sandbox.h"

namespace warden::cli {
namespace {

// "512M", "1G", "65536", "64k" -> bytes (binary units).
Result<uint64_t> ParseSize(const std::string& text) {
  if (text.empty()) return Status::InvalidArgument("empty size");
  size_t pos = 0;
  while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) ++pos;
  if (pos == 0) return Status::InvalidArgument("size '" + text + "' must start with a number (e.g. 512M)");
  uint64_t n = std::stoull(text.substr(0, pos));
  std::string unit = text.substr(pos);
  for (char& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (unit == "" || unit == "b") return n;
  if (unit == "k" || unit == "kb" || unit == "kib") return n << 10;
  if (unit == "m" || unit == "mb" || unit == "mib") return n << 20;
  if (unit == "g" || unit == "gb" || unit == "gib") return n << 30;
  return Status::InvalidArgument("size '" + text + "': unknown unit '" + unit + "' (use K, M or G)");
}

std::string Summary(const sandbox::RunResult& r) {
  std::ostringstream t;
  t << "sandbox: " << r.exit_kind;
  if (r.exit_kind == "exited") t << " " << r.exit_code;
  if (r.signal != 0) t << " (signal " << r.signal << ")";
  t << " in " << static_cast<int64_t>(r.wall_ms) << " ms, cpu " << static_cast<int64_t>(r.cpu_user_ms + r.cpu_sys_ms)
    << " ms, peak " << (r.peak_memory_bytes >> 20) << " MiB";
  if (r.truncated) t << ", output truncated (stdout " << r.stdout_bytes << " B, stderr " << r.stderr_bytes << " B)";
  if (!r.limits_hit.empty()) {
    t << ", limits hit:";
    for (const auto& l : r.limits) {
      if (l.hit) t << " " << l.name << " (" << l.hit_by << ")";
    }
  }
  if (r.violations_total > 0) {
    t << ", " << r.violations_total << " violation(s):";
    size_t shown = 0;
    for (const auto& v : r.violations) {
      if (shown++ == 5) {
        t << " ...";
        break;
      }
      t << " " << (v.kind == "net" ? "net " + v.host : v.syscall) << "->" << v.action;
    }
  }
  if (r.artifacts_total > 0) {
    t << ", " << r.artifacts_total << " artifact(s) in outputs/" << (r.artifacts_truncated ? " (list capped)" : "");
  }
  if (!r.setup_error.empty()) t << ": " << r.setup_error;
  return t.str();
}

}  // namespace

void RegisterSandboxRun(CLI::App& group, CliContext& ctx) {
  auto* cmd = group.add_subcommand(
      "run", "Run a program inside the skill sandbox (namespaces, seccomp, Landlock, limits) and report what happened");
  struct Flags {
    sandbox::Spec spec;
    std::string memory;
    std::vector<std::string> env;
  };
  auto f = std::make_shared<Flags>();
  auto* ws = cmd->add_option("--workspace", f->spec.workspace,
                              "Folder bound read-write at /workspace (default: a fresh one, removed afterwards)");
  auto* ws_ro = cmd->add_flag("--workspace-ro", f->spec.workspace_readonly,
                              "Mount the workspace read-only (writes under /workspace fail with EROFS)");
  cmd->add_flag("--no-workspace", f->spec.workspace_none,
                "Bind no workspace: /workspace is an empty read-only folder (a skill with workspace permission none)")
      ->excludes(ws)
      ->excludes(ws_ro);
  cmd->add_option("--profile", f->spec.profile,
                  "Sandbox profile: default (no network at all) or net (egress only through the supervisor's proxy "
                  "to --allow-net hosts; --allow-net implies it)")
      ->capture_default_str();
  cmd->add_option("--timeout", f->spec.timeout_s, "Wall-clock limit in seconds (whole process tree killed)")
      ->capture_default_str();
  cmd->add_option("--cpu-time", f->spec.cpu_time_s, "CPU-time limit in seconds")->capture_default_str();
  cmd->add_option("--memory", f->memory, "Memory limit, e.g. 256M or 1G (default 512M)");
  cmd->add_option("--pids", f->spec.pids, "Most processes and threads at once")->capture_default_str();
  // allow_extra_args(false): one value per flag, repeatable, so a following `--` still ends the flags.
  cmd->add_option("--allow-net", f->spec.allowed_hosts,
                  "HOST:PORT the program may reach through the proxy (HTTP CONNECT / absolute http:// URLs; "
                  "HTTP_PROXY, HTTPS_PROXY and ALL_PROXY point to it inside; every request is a net record in the "
                  "result); *.SUFFIX:PORT for names below SUFFIX, IP literals only when listed, PORT may be *; "
                  "repeatable; implies --profile net")
      ->allow_extra_args(false);
  cmd->add_option("--deny-net", f->spec.denied_hosts, "HOST:PORT refused even when --allow-net matches; repeatable")
      ->allow_extra_args(false);
  cmd->add_option("--upstream-proxy", f->spec.upstream_proxy,
                  "HOST:PORT of an HTTP proxy that allowed requests go through (a site's egress proxy) instead of "
                  "direct connections");
  cmd->add_option("--ro", f->spec.ro_paths, "Host path made visible read-only at the same path; repeatable")
      ->allow_extra_args(false);
  cmd->add_option("--env", f->env, "NAME=VALUE added to the program's environment; repeatable")
      ->allow_extra_args(false);
  cmd->add_option("command", f->spec.argv, "Program and arguments (after --)")->required();
  cmd->callback([&ctx, f] {
    sandbox::Spec spec = f->spec;
    if (!f->memory.empty()) {
      auto m = ParseSize(f->memory);
      if (!m.ok()) return ctx.Fail(m.status(), "--memory takes a size such as 256M", kExitUsage);
      spec.memory_bytes = *m;
    }
    for (const auto& e : f->env) {
      auto eq = e.find('=');
      if (eq == std::string::npos || eq == 0) {
        return ctx.Fail(Status::InvalidArgument("--env " + e + ": expected NAME=VALUE"), "", kExitUsage);
      }
      spec.env[e.substr(0, eq)] = e.substr(eq + 1);
    }
    if ((!spec.allowed_hosts.empty() || !spec.denied_hosts.empty() || !spec.upstream_proxy.empty()) &&
        spec.profile == "default") {
      spec.profile = "net";
    }
    if (Status net = sandbox::CheckNetSpec(spec); !net.ok()) {
      return ctx.Fail(net, "see `warden sandbox run --help` for the HOST:PORT forms", kExitUsage);
    }
    // The program's stdin is a pipe fed from ours; a terminal is never handed in (no TTY for skills).
    if (!::isatty(0)) {
      spec.stdin_data.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    }
    sandbox::SetPrestart(false);  // one task per process: start nothing ahead for a next one
    auto r = sandbox::Run(spec);
    if (!r.ok()) {
      return ctx.Fail(r.status(), r.status().code() == Status::Code::kInvalidArgument ||
                                          r.status().code() == Status::Code::kNotFound
                                      ? "check the paths and flags; see `warden sandbox run --help`"
                                      : "run `warden doctor` to see which sandbox layers work here");
    }
    if (ctx.json) {
      ctx.Emit(r->ToJson(), "");
    } else {
      std::cout << r->stdout_data << std::flush;
      std::cerr << r->stderr_data << Summary(*r) << std::endl;
    }
    if (r->exit_kind == "exited") ctx.exit_code = r->exit_code;
    else if (r->exit_kind == "signaled") ctx.exit_code = 128 + r->signal;
    else if (r->exit_kind == "setup_error") ctx.exit_code = kExitError;
    else ctx.exit_code = kExitSandboxViolation;
  });
}

}  // namespace warden::cli
