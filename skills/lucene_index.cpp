// The only translation unit that includes Lucene++ (each one costs ~10 s to compile).
#include <lucene++/LuceneHeaders.h>

#include "skills/skills.h"

namespace warden::skills {

std::string LuceneVersion() { return Lucene::StringUtils::toUTF8(Lucene::Constants::LUCENE_VERSION); }

}  // namespace warden::skills
