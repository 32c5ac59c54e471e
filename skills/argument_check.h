// Checks a skill call's arguments against the skill's `arguments` JSON Schema before anything runs (the subset the
// manifest format allows: type, properties, required, enum, items, minimum, maximum, minLength, maxLength, pattern,
// default, description). Internal to skills/; the public entry point is declared in skills/skills.h.
#pragma once

#include <nlohmann/json.hpp>

#include "runtime/base/result.h"

namespace warden::skills {

// Returns `args` with every missing property that declares a `default` filled in, or the first violation as
// InvalidArgument naming the JSON path ("$.rows[2]: expected integer, got string"). Unknown properties pass (JSON
// Schema's default); a schema keyword outside the subset is ignored here because manifest validation refuses it.
Result<nlohmann::json> CheckArguments(const nlohmann::json& schema, const nlohmann::json& args);

}  // namespace warden::skills
