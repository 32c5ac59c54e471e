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

void AsciiLowerInPlace(std::string* s) {
  for (auto& c : *s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
}

// The common host: ASCII, valid labels. Lowercased into `out` with one trailing dot dropped; false sends the host to
// NormalizeHost (non-ASCII labels, or an error to explain).
bool AsciiHost(std::string_view h, std::string* out) {
  if (!h.empty() && h.back() == '.') h.remove_suffix(1);
  if (h.empty() || h.size() > 253) return false;
  out->assign(h);
  AsciiLowerInPlace(out);
  size_t i = 0;
  while (i <= out->size()) {
    size_t j = out->find('.', i);
    if (j == std::string::npos) j = out->size();
    if (!ValidLabel(std::string_view(*out).substr(i, j - i))) return false;
    i = j + 1;
  }
  return true;
}

// Lowercases the identifier field `key` of the object `obj` (rewritten only when that changed it) into `out`; empty
// on success, else the complaint. A null field counts as absent and is removed.
std::string NormalizeId(nlohmann::json& obj, const char* key, const char* what, bool required, std::string* out) {
  out->clear();
  nlohmann::json* it = Member(obj, key);
  if (it == nullptr || it->is_null()) {
    if (it != nullptr) obj.erase(key);
    return required ? std::string(what) + " is missing" : "";
  }
  if (!it->is_string()) return std::string(what) + " must be a string";
  const std::string& raw = it->get_ref<const std::string&>();
  out->assign(raw);
  AsciiLowerInPlace(out);
  if (!IsIdentifier(*out)) {
    const std::string complaint = std::string(what) + " \"" + raw +
                                  "\" is not an identifier ([a-z0-9][a-z0-9._-]*, ASCII only, at most 128 characters)";
    out->clear();
    return complaint;
  }
  if (*out != raw) *it = *out;
  return "";
}

}  // namespace

void LexicalNormalizeInto(std::string_view in, std::string* out, std::vector<size_t>* stack) {
  out->clear();
  stack->clear();
  size_t i = 0;
  while (i < in.size()) {
    while (i < in.size() && in[i] == '/') ++i;
    size_t j = i;
    while (j < in.size() && in[j] != '/') ++j;
    const auto seg = in.substr(i, j - i);
    i = j;
    if (seg.empty() || seg == ".") continue;
    if (seg == "..") {
      if (!stack->empty()) {
        out->resize(stack->back());
        stack->pop_back();
      }
      continue;
    }
    stack->push_back(out->size());
    out->push_back('/');
    out->append(seg);
  }
  if (out->empty()) out->push_back('/');
}

std::string LexicalNormalize(std::string_view absolute) {
  std::string out;
  std::vector<size_t> stack;
  LexicalNormalizeInto(absolute, &out, &stack);
  return out;
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

std::string Normalize(nlohmann::json&& in, const LoadOptions& options, Request* r) {
  // Fields are rewritten only where normalisation changed them, so an already-normal request costs no allocation.
  r->json = std::move(in);
  if (!r->json.is_object()) return "request must be a JSON object";
  r->action = -1;
  r->tenant.clear();
  r->principal.clear();
  r->skill.clear();
  r->tool.clear();
  r->model.clear();
  r->host.clear();
  r->task_id.clear();
  r->tags.clear();
  r->principal_segs.clear();
  r->path.clear();
  r->path_lower.clear();
  r->segs.clear();
  r->segs_lower.clear();
  r->has_path = false;
  r->host_is_ip = false;
  r->port = -1;
  r->ip.reset();
  r->cwd.clear();
  auto& j = r->json;

  std::string& action = r->scratch;
  if (auto e = NormalizeId(j, "action", "action", true, &action); !e.empty()) return e;
  auto ai = ActionIndex(action);
  if (!ai) return "unknown action \"" + action + "\" (expected one of task.submit, skill.select, skill.exec, "
                                                 "tool.call, fs.read, fs.write, net.connect, model.generate)";
  r->action = *ai;

  {
    nlohmann::json* p = Member(j, "principal");
    if (p == nullptr || !p->is_string()) return "principal is missing (expected \"tenant/kind/name\")";
    const std::string& raw = p->get_ref<const std::string&>();
    r->principal.assign(raw);
    AsciiLowerInPlace(&r->principal);
    SplitSegmentsInto(r->principal, &r->principal_segs);
    const auto& segs = r->principal_segs;
    if (segs.size() < 2 || segs.size() > 8 || r->principal.front() == '/' || r->principal.back() == '/' ||
        r->principal.find("//") != std::string::npos) {
      return "principal \"" + raw + "\" must be tenant/kind/name";
    }
    for (auto s : segs) {
      if (!IsIdentifier(s)) return "principal segment \"" + std::string(s) + "\" is not an ASCII identifier";
    }
    if (r->principal != raw) *p = r->principal;
  }
  const std::string_view first = r->principal_segs[0];
  if (auto e = NormalizeId(j, "tenant", "tenant", false, &r->tenant); !e.empty()) return e;
  if (r->tenant.empty()) {
    r->tenant.assign(first);
    j["tenant"] = r->tenant;
  } else if (r->tenant != first) {
    return "tenant \"" + r->tenant + "\" differs from the principal's tenant \"" + std::string(first) + "\"";
  }

  if (nlohmann::json* task = Member(j, "task"); task != nullptr) {
    if (!task->is_object()) return "task must be an object";
    if (const nlohmann::json* id = Member(*task, "id"); id != nullptr) {
      if (!id->is_string()) return "task.id must be a string";
      r->task_id.assign(id->get_ref<const std::string&>());
    }
    if (nlohmann::json* c = Member(*task, "cwd"); c != nullptr) {
      if (!c->is_string()) return "task.cwd must be a string";
      const std::string& raw = c->get_ref<const std::string&>();
      if (raw.empty() || raw[0] != '/' || raw.find('\0') != std::string::npos) return "task.cwd must be absolute";
      LexicalNormalizeInto(raw, &r->cwd, &r->stack);
      if (r->cwd != raw) *c = r->cwd;
    }
  }
  if (nlohmann::json* skill = Member(j, "skill"); skill != nullptr && !skill->is_null()) {
    if (!skill->is_object()) return "skill must be an object";
    if (auto e = NormalizeId(*skill, "name", "skill.name", false, &r->skill); !e.empty()) return e;
    if (nlohmann::json* tags = Member(*skill, "tags"); tags != nullptr) {
      if (!tags->is_array()) return "skill.tags must be an array";
      for (auto& t : *tags) {
        if (!t.is_string()) return "skill tag " + t.dump() + " is not an ASCII identifier";
        const std::string& raw = t.get_ref<const std::string&>();
        r->tags.emplace_back(raw);
        AsciiLowerInPlace(&r->tags.back());
        if (!IsIdentifier(r->tags.back())) return "skill tag " + t.dump() + " is not an ASCII identifier";
        if (r->tags.back() != raw) t = r->tags.back();
      }
    }
  }

  nlohmann::json* res = nullptr;
  if (nlohmann::json* it = Member(j, "resource"); it != nullptr) {
    if (!it->is_object()) return "resource must be an object";
    res = it;
  }
  auto need_res = [&](const char* key) -> std::string {
    if (res == nullptr || Member(*res, key) == nullptr) {
      return "resource." + std::string(key) + " is required for " +
             std::string(kActions[static_cast<size_t>(r->action)]);
    }
    return "";
  };
  switch (r->action) {
    case kFsRead:
    case kFsWrite: {
      if (auto e = need_res("path"); !e.empty()) return e;
      nlohmann::json* pv = Member(*res, "path");
      if (!pv->is_string()) return "resource.path must be a string";
      const std::string& raw = pv->get_ref<const std::string&>();
      if (raw.find('\0') != std::string::npos) return "resource.path contains a NUL byte";
      if (raw.empty() || raw.size() > kMaxPath) return "resource.path is empty or longer than 4096 bytes";
      if (raw[0] != '/') {
        if (r->cwd.empty()) return "relative resource.path \"" + raw + "\" needs task.cwd";
        r->scratch.assign(r->cwd).append("/").append(raw);
        LexicalNormalizeInto(r->scratch, &r->path, &r->stack);
      } else {
        LexicalNormalizeInto(raw, &r->path, &r->stack);
      }
      if (options.resolve_symlinks) {
        std::string resolved;
        if (auto e = ResolveInRoot(options.sandbox_root.string(), r->path, &resolved); !e.empty()) return e;
        r->path = std::move(resolved);
      }
      if (r->path != raw) {
        (*res)["requested_path"] = raw;  // map nodes are stable: `pv` stays valid
        *pv = r->path;
      }
      r->path_lower.assign(r->path);
      AsciiLowerInPlace(&r->path_lower);
      r->has_path = true;
      break;
    }
    case kNetConnect: {
      if (res == nullptr) return "resource.host or resource.ip is required for net.connect";
      if (const nlohmann::json* port = Member(*res, "port"); port != nullptr) {
        if (!port->is_number_integer() || port->get<int64_t>() < 1 || port->get<int64_t>() > 65535) {
          return "resource.port must be an integer 1..65535";
        }
        r->port = static_cast<int>(port->get<int64_t>());
      }
      if (const nlohmann::json* ip = Member(*res, "ip"); ip != nullptr) {
        if (!ip->is_string() || !(r->ip = ParseIp(ip->get_ref<const std::string&>()))) {
          return "resource.ip is not an IP address";
        }
      }
      if (nlohmann::json* host = Member(*res, "host"); host != nullptr) {
        if (!host->is_string()) return "resource.host must be a string";
        const std::string& h = host->get_ref<const std::string&>();
        if (auto lit = ParseIp(h)) {
          // An IP literal is not a host: it only meets `cidrs`.
          r->host_is_ip = true;
          if (!r->ip) r->ip = lit;
        } else {
          if (!AsciiHost(h, &r->host)) {
            std::string err;
            r->host = NormalizeHost(h, &err);
            if (r->host.empty()) return err;
          }
          if (r->host != h) {
            (*res)["requested_host"] = h;
            *host = r->host;
          }
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
      std::string& name = r->scratch;
      name.clear();
      if (res != nullptr && Member(*res, "skill") != nullptr) {
        if (auto e = NormalizeId(*res, "skill", "resource.skill", true, &name); !e.empty()) return e;
      }
      if (name.empty()) name = r->skill;
      if (name.empty()) {
        return "resource.skill (or skill.name) is required for " +
               std::string(kActions[static_cast<size_t>(r->action)]);
      }
      if (!r->skill.empty() && r->skill != name) return "resource.skill differs from skill.name";
      r->skill = name;
      break;
    }
    default: break;
  }
  if (r->has_path) {
    SplitSegmentsInto(r->path, &r->segs);
    SplitSegmentsInto(r->path_lower, &r->segs_lower);
  }
  return "";
}

}  // namespace warden::policy::detail
