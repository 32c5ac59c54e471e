// The request model of policy-audit.md A.8.2 as a load-time check (A.7 principle 4, A.8.3 "the load-time validator
// ... rejects conditions whose path can never exist"): which fields a request of each action can carry, so that a
// condition on a field its rule's actions never have is reported when the set loads instead of silently never
// matching. Warden reports these as warnings, not errors: `args` and `usage` are open (tools define their
// arguments), and a runtime may add fields this model does not know yet.
#include "policies/policy_internal.h"

namespace warden::policy::detail {
namespace {

constexpr uint32_t Bit(int action) { return 1u << action; }
constexpr uint32_t kAll = (1u << kActions.size()) - 1;
constexpr uint32_t kFs = Bit(kFsRead) | Bit(kFsWrite);
constexpr uint32_t kSkill = Bit(kSkillSelect) | Bit(kSkillExec);
constexpr int kTaskSubmit = 0;

enum class Shape { kScalar, kOpen, kTask, kSkillObject, kResource, kStringArray };

struct Field {
  std::string_view name;
  Shape shape;
  uint32_t actions;  // the actions whose requests can carry it
};

// Top-level fields. `args` is what a tool, a skill or a generation call is given; fs.*, net.connect and
// skill.select requests have none.
constexpr Field kTop[] = {
    {"tenant", Shape::kScalar, kAll},
    {"principal", Shape::kScalar, kAll},
    {"action", Shape::kScalar, kAll},
    {"task", Shape::kTask, kAll},
    {"skill", Shape::kSkillObject, kAll},
    {"resource", Shape::kResource, kAll},
    {"args", Shape::kOpen, Bit(kToolCall) | Bit(kSkillExec) | Bit(kModelGenerate) | Bit(kTaskSubmit)},
    {"usage", Shape::kOpen, kAll},
};
constexpr Field kTaskFields[] = {
    {"id", Shape::kScalar, kAll}, {"submitted_by", Shape::kScalar, kAll}, {"cwd", Shape::kScalar, kAll}};
constexpr Field kSkillFields[] = {{"name", Shape::kScalar, kAll},
                                  {"version", Shape::kScalar, kAll},
                                  {"tags", Shape::kStringArray, kAll},
                                  {"permissions", Shape::kOpen, kAll}};
// resource holds one kind of thing per action; a task.submit's resource is the task itself (open).
constexpr Field kResourceFields[] = {{"path", Shape::kScalar, kFs},
                                     {"requested_path", Shape::kScalar, kFs},
                                     {"host", Shape::kScalar, Bit(kNetConnect)},
                                     {"port", Shape::kScalar, Bit(kNetConnect)},
                                     {"ip", Shape::kScalar, Bit(kNetConnect)},
                                     {"requested_host", Shape::kScalar, Bit(kNetConnect)},
                                     {"tool", Shape::kScalar, Bit(kToolCall)},
                                     {"skill", Shape::kScalar, kSkill},
                                     {"model", Shape::kScalar, Bit(kModelGenerate)}};

template <size_t N>
std::string Known(const Field (&fields)[N], int action) {
  std::string out;
  for (const auto& f : fields) {
    if (f.actions & Bit(action)) out += (out.empty() ? "" : ", ") + std::string(f.name);
  }
  return out.empty() ? "nothing" : out;
}

template <size_t N>
const Field* Find(const Field (&fields)[N], std::string_view name) {
  for (const auto& f : fields) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

}  // namespace

std::string NeverPresent(int action, const std::vector<PathStep>& path) {
  const std::string act(kActions[static_cast<size_t>(action)]);
  std::string at = "$";
  Shape shape = Shape::kOpen;
  for (size_t i = 0; i < path.size(); ++i) {
    const PathStep& s = path[i];
    // Appended piecewise: GCC 12 misreports `"." + key` as an overlapping copy (-Wrestrict).
    std::string step(s.is_index ? "[" : ".");
    step.append(s.is_index ? std::to_string(s.index) : s.key);
    if (s.is_index) step.push_back(']');
    // Which list of fields this step picks from, given where we are.
    const Field* f = nullptr;
    std::string known;
    if (i == 0) {
      if (s.is_index) return "a request is an object, not an array";
      f = Find(kTop, s.key);
      known = Known(kTop, action);
    } else {
      switch (shape) {
        case Shape::kOpen:
          return "";
        case Shape::kScalar:
          return at + " is a single value: it has no " + step;
        case Shape::kStringArray:
          if (!s.is_index) return at + " is an array of strings: it has no " + step;
          shape = Shape::kScalar;
          at += step;
          continue;
        case Shape::kTask:
          f = s.is_index ? nullptr : Find(kTaskFields, s.key);
          known = Known(kTaskFields, action);
          break;
        case Shape::kSkillObject:
          f = s.is_index ? nullptr : Find(kSkillFields, s.key);
          known = Known(kSkillFields, action);
          break;
        case Shape::kResource:
          if (action == kTaskSubmit) return "";
          f = s.is_index ? nullptr : Find(kResourceFields, s.key);
          known = Known(kResourceFields, action);
          break;
      }
    }
    if (f == nullptr || (f->actions & Bit(action)) == 0) {
      return act + " requests have no " + at + step + " (" + at + " has " + known + ")";
    }
    shape = f->shape;
    at += step;
  }
  return "";
}

}  // namespace warden::policy::detail
