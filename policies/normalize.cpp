// Request normalisation before any rule is consulted (policy-audit.md A.8.2): ASCII identifiers, absolute paths with
// `.`/`..`/`//` collapsed and symlinks resolved inside the sandbox root, hosts lowercased with one trailing dot
// stripped and non-ASCII labels turned into punycode (so a Cyrillic look-alike is a different host), IP literals
// parsed. A request that fails here is denied as `invalid_request`.
#include <sys/stat.h>
#include <unistd.h>
#include <utf8proc.h>

#include <cerrno>

#include "policies/policy_internal.h"

namespace warden::policy::detail {
namespace {

constexpr size_t kMaxPath = 4096;
constexpr int kMaxSymlinkHops = 40;

// RFC 3492 encoder for one label of code points (all of them, ASCII included).
std::string Punycode(const std::vector<uint32_t>& cps) {
  constexpr uint32_t kBase = 36, kTmin = 1, kTmax = 26, kSkew = 38, kDamp = 700;
  auto digit = [](uint32_t d) { return static_cast<char>(d < 26 ? 'a' + d : '0' + (d - 26)); };
  auto adapt = [&](uint32_t delta, uint32_t points, bool first) {
    delta = first ? delta / kDamp : delta / 2;
    delta += delta / points;
    uint32_t k = 0;
    while (delta > ((kBase - kTmin) * kTmax) / 2) {
      delta /= kBase - kTmin;
      k += kBase;
    }
    return k + (kBase - kTmin + 1) * delta / (delta + kSkew);
  };
  std::string out;
  for (uint32_t c : cps) {
    if (c < 0x80) out += static_cast<char>(c);
  }
  const uint32_t basic = static_cast<uint32_t>(out.size());
  uint32_t handled = basic;
  if (basic > 0) out += '-';
  uint32_t n = 0x80, delta = 0, bias = 72;
  while (handled < cps.size()) {
    uint32_t m = UINT32_MAX;
    for (uint32_t c : cps) {
      if (c >= n && c < m) m = c;
    }
    delta += (m - n) * (handled + 1);
    n = m;
    for (uint32_t c : cps) {
      if (c < n) ++delta;
      if (c == n) {
        uint32_t q = delta;
        for (uint32_t k = kBase;; k += kBase) {
          const uint32_t t = k <= bias ? kTmin : (k >= bias + kTmax ? kTmax : k - bias);
          if (q < t) break;
          out += digit(t + (q - t) % (kBase - t));
          q = (q - t) / (kBase - t);
        }
        out += digit(q);
        bias = adapt(delta, handled + 1, handled == basic);
        delta = 0;
        ++handled;
      }
    }
    ++delta;
    ++n;
  }
  return out;
}

bool ValidLabel(std::string_view l) {
  if (l.empty() || l.size() > 63 || l.front() == '-' || l.back() == '-') return false;
  for (char c : l) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) return false;
  }
  return true;
}

std::string JoinSegs(const std::vector<std::string>& segs) {
  if (segs.empty()) return "/";
  std::string out;
  for (const auto& s : segs) out += "/" + s;
  return out;
}

const nlohmann::json* Field(const nlohmann::json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

// Lowercases an identifier field in place; empty on success, else the complaint.
std::string NormalizeId(nlohmann::json& obj, const char* key, const char* what, bool required, std::string* out) {
  auto* v = obj.is_object() ? &obj[key] : nullptr;
  if (v == nullptr || v->is_null()) {
    if (obj.is_object()) obj.erase(key);
    return required ? std::string(what) + " is missing" : "";
  }
  if (!v->is_string()) return std::string(what) + " must be a string";
  std::string s = AsciiLower(v->get<std::string>());
  if (!IsIdentifier(s)) {
    return std::string(what) + " \"" + v->get<std::string>() +
           "\" is not an identifier ([a-z0-9][a-z0-9._-]*, ASCII only, at most 128 characters)";
  }
  *v = s;
  if (out) *out = s;
  return "";
}

}  // namespace

std::string LexicalNormalize(std::string_view absolute) {
  std::vector<std::string> out;
  for (auto seg : SplitSegments(absolute)) {
    if (seg == ".") continue;
    if (seg == "..") {
      if (!out.empty()) out.pop_back();
      continue;
    }
    out.emplace_back(seg);
  }
  return JoinSegs(out);
}

std::string ResolveInRoot(const std::string& root, const std::string& path, std::string* out) {
  const std::string prefix = (root.empty() || root == "/") ? "" : LexicalNormalize(root);
  std::vector<std::string> resolved;
  std::deque<std::string> todo;
  for (auto s : SplitSegments(path)) todo.emplace_back(s);
  int hops = 0;
  bool exists = true;
  while (!todo.empty()) {
    std::string seg = std::move(todo.front());
    todo.pop_front();
    if (seg == ".") continue;
    if (seg == "..") {
      if (!resolved.empty()) resolved.pop_back();
      continue;
    }
    resolved.push_back(seg);
    if (!exists) continue;
    const std::string host = prefix + JoinSegs(resolved);
    struct stat st {};
    if (::lstat(host.c_str(), &st) != 0) {
      // The rest does not exist yet (a file about to be created): appended as written.
      if (errno == ENOENT || errno == ENOTDIR) {
        exists = false;
        continue;
      }
      return "cannot inspect \"" + JoinSegs(resolved) + "\": " + std::strerror(errno);
    }
    if (!S_ISLNK(st.st_mode)) continue;
    if (++hops > kMaxSymlinkHops) return "too many levels of symbolic links at \"" + JoinSegs(resolved) + "\"";
    std::string target(kMaxPath, '\0');
    const ssize_t n = ::readlink(host.c_str(), target.data(), target.size());
    if (n < 0) return "cannot read link \"" + JoinSegs(resolved) + "\": " + std::strerror(errno);
    target.resize(static_cast<size_t>(n));
    resolved.pop_back();
    if (!target.empty() && target[0] == '/') resolved.clear();  // absolute: restarts at the sandbox root
    auto parts = SplitSegments(target);
    for (auto it = parts.rbegin(); it != parts.rend(); ++it) todo.emplace_front(*it);
  }
  *out = JoinSegs(resolved);
  if (out->size() > kMaxPath) return "resolved path longer than 4096 bytes";
  return "";
}

std::string NormalizeHost(std::string_view host, std::string* error) {
  std::string h(host);
  if (!h.empty() && h.back() == '.') h.pop_back();
  if (h.empty() || h.size() > 253) {
    *error = "host is empty or longer than 253 bytes";
    return "";
  }
  std::string out;
  size_t i = 0;
  while (i <= h.size()) {
    size_t j = h.find('.', i);
    if (j == std::string::npos) j = h.size();
    std::string label = h.substr(i, j - i);
    bool ascii = true;
    for (unsigned char c : label) ascii = ascii && c < 0x80;
    if (ascii) {
      label = AsciiLower(label);
    } else {
      // NFKC + case folding, then punycode: the ASCII form a resolver would look up. Never folded to a look-alike.
      utf8proc_uint8_t* mapped = nullptr;
      const auto n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(label.data()),
                                  static_cast<utf8proc_ssize_t>(label.size()), &mapped,
                                  static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE |
                                                                 UTF8PROC_COMPAT | UTF8PROC_CASEFOLD));
      if (n < 0) {
        *error = "host label is not valid UTF-8";
        return "";
      }
      std::vector<uint32_t> cps;
      for (utf8proc_ssize_t k = 0; k < n;) {
        utf8proc_int32_t cp = 0;
        const auto used = utf8proc_iterate(mapped + k, n - k, &cp);
        if (used <= 0) break;
        cps.push_back(static_cast<uint32_t>(cp));
        k += used;
      }
      std::free(mapped);
      label = "xn--" + Punycode(cps);
    }
    if (!ValidLabel(label)) {
      *error = "host label \"" + h.substr(i, j - i) + "\" is empty or has characters outside [a-z0-9-_]";
      return "";
    }
    out += (out.empty() ? "" : ".") + label;
    i = j + 1;
  }
  if (out.size() > 253) {
    *error = "host longer than 253 bytes";
    return "";
  }
  return out;
}

std::string Normalize(const nlohmann::json& in, const LoadOptions& options, Request* r) {
  if (!in.is_object()) return "request must be a JSON object";
  r->json = in;
  auto& j = r->json;
  std::string action;
  if (auto e = NormalizeId(j, "action", "action", true, &action); !e.empty()) return e;
  auto ai = ActionIndex(action);
  if (!ai) return "unknown action \"" + action + "\" (expected one of task.submit, skill.select, skill.exec, "
                                                 "tool.call, fs.read, fs.write, net.connect, model.generate)";
  r->action = *ai;

  const auto* p = Field(j, "principal");
  if (p == nullptr || !p->is_string()) return "principal is missing (expected \"tenant/kind/name\")";
  r->principal = AsciiLower(p->get<std::string>());
  const auto segs = SplitSegments(r->principal);
  if (segs.size() < 2 || segs.size() > 8 || r->principal.front() == '/' || r->principal.back() == '/' ||
      r->principal.find("//") != std::string::npos) {
    return "principal \"" + p->get<std::string>() + "\" must be tenant/kind/name";
  }
  for (auto s : segs) {
    if (!IsIdentifier(s)) return "principal segment \"" + std::string(s) + "\" is not an ASCII identifier";
  }
  j["principal"] = r->principal;
  if (auto e = NormalizeId(j, "tenant", "tenant", false, &r->tenant); !e.empty()) return e;
  if (r->tenant.empty()) {
    r->tenant = std::string(segs[0]);
    j["tenant"] = r->tenant;
  } else if (r->tenant != segs[0]) {
    return "tenant \"" + r->tenant + "\" differs from the principal's tenant \"" + std::string(segs[0]) + "\"";
  }

  std::string cwd;
  if (auto* task = Field(j, "task"); task != nullptr) {
    if (!task->is_object()) return "task must be an object";
    if (auto* id = Field(*task, "id"); id != nullptr) {
      if (!id->is_string()) return "task.id must be a string";
      r->task_id = id->get<std::string>();
    }
    if (auto* c = Field(*task, "cwd"); c != nullptr) {
      if (!c->is_string()) return "task.cwd must be a string";
      cwd = c->get<std::string>();
      if (cwd.empty() || cwd[0] != '/' || cwd.find('\0') != std::string::npos) return "task.cwd must be absolute";
      cwd = LexicalNormalize(cwd);
      j["task"]["cwd"] = cwd;
    }
  }
  if (auto* skill = Field(j, "skill"); skill != nullptr && !skill->is_null()) {
    if (!skill->is_object()) return "skill must be an object";
    if (auto e = NormalizeId(j["skill"], "name", "skill.name", false, &r->skill); !e.empty()) return e;
    if (auto* tags = Field(j["skill"], "tags"); tags != nullptr) {
      if (!tags->is_array()) return "skill.tags must be an array";
      nlohmann::json lowered = nlohmann::json::array();
      for (const auto& t : *tags) {
        if (!t.is_string() || !IsIdentifier(AsciiLower(t.get<std::string>()))) {
          return "skill tag " + t.dump() + " is not an ASCII identifier";
        }
        r->tags.push_back(AsciiLower(t.get<std::string>()));
        lowered.push_back(r->tags.back());
      }
      j["skill"]["tags"] = lowered;
    }
  }

  nlohmann::json* res = nullptr;
  if (auto it = j.find("resource"); it != j.end()) {
    if (!it->is_object()) return "resource must be an object";
    res = &*it;
  }
  auto need_res = [&](const char* key) -> std::string {
    if (res == nullptr || Field(*res, key) == nullptr) return "resource." + std::string(key) + " is required for " + action;
    return "";
  };
  switch (r->action) {
    case kFsRead:
    case kFsWrite: {
      if (auto e = need_res("path"); !e.empty()) return e;
      const auto& pv = (*res)["path"];
      if (!pv.is_string()) return "resource.path must be a string";
      const std::string raw = pv.get<std::string>();
      if (raw.find('\0') != std::string::npos) return "resource.path contains a NUL byte";
      if (raw.empty() || raw.size() > kMaxPath) return "resource.path is empty or longer than 4096 bytes";
      std::string abs = raw;
      if (raw[0] != '/') {
        if (cwd.empty()) return "relative resource.path \"" + raw + "\" needs task.cwd";
        abs = cwd + "/" + raw;
      }
      std::string path = LexicalNormalize(abs);
      if (options.resolve_symlinks) {
        std::string resolved;
        if (auto e = ResolveInRoot(options.sandbox_root.string(), path, &resolved); !e.empty()) return e;
        path = std::move(resolved);
      }
      if (path != raw) (*res)["requested_path"] = raw;
      (*res)["path"] = path;
      r->path = path;
      r->path_lower = AsciiLower(path);
      r->has_path = true;
      break;
    }
    case kNetConnect: {
      if (res == nullptr) return "resource.host or resource.ip is required for net.connect";
      if (auto* port = Field(*res, "port"); port != nullptr) {
        if (!port->is_number_integer() || port->get<int64_t>() < 1 || port->get<int64_t>() > 65535) {
          return "resource.port must be an integer 1..65535";
        }
        r->port = static_cast<int>(port->get<int64_t>());
      }
      if (auto* ip = Field(*res, "ip"); ip != nullptr) {
        if (!ip->is_string() || !(r->ip = ParseIp(ip->get<std::string>()))) return "resource.ip is not an IP address";
      }
      if (auto* host = Field(*res, "host"); host != nullptr) {
        if (!host->is_string()) return "resource.host must be a string";
        const auto h = host->get<std::string>();
        if (auto lit = ParseIp(h)) {
          // An IP literal is not a host: it only meets `cidrs`.
          r->host_is_ip = true;
          if (!r->ip) r->ip = lit;
        } else {
          std::string err;
          r->host = NormalizeHost(h, &err);
          if (r->host.empty()) return err;
          if (r->host != h) (*res)["requested_host"] = h;
          (*res)["host"] = r->host;
        }
      } else if (!r->ip) {
        return "resource.host or resource.ip is required for net.connect";
      }
      break;
    }
    case kToolCall:
      if (auto e = need_res("tool"); !e.empty()) return e;
      if (auto e = NormalizeId(*res, "tool", "resource.tool", true, &r->tool); !e.empty()) return e;
      break;
    case kModelGenerate:
      if (auto e = need_res("model"); !e.empty()) return e;
      if (auto e = NormalizeId(*res, "model", "resource.model", true, &r->model); !e.empty()) return e;
      break;
    case kSkillSelect:
    case kSkillExec: {
      std::string name;
      if (res != nullptr && Field(*res, "skill") != nullptr) {
        if (auto e = NormalizeId(*res, "skill", "resource.skill", true, &name); !e.empty()) return e;
      }
      if (name.empty()) name = r->skill;
      if (name.empty()) return "resource.skill (or skill.name) is required for " + action;
      if (!r->skill.empty() && r->skill != name) return "resource.skill differs from skill.name";
      r->skill = name;
      break;
    }
    default: break;
  }
  r->principal_segs = SplitSegments(r->principal);
  if (r->has_path) {
    r->segs = SplitSegments(r->path);
    r->segs_lower = SplitSegments(r->path_lower);
  }
  return "";
}

}  // namespace warden::policy::detail
