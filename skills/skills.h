// Public interface of Warden's skill catalog (BM25 over skill manifests with Lucene++). Grows with the skills issue.
#pragma once

#include <string>

namespace warden::skills {

// The Lucene++ library version linked into this binary (e.g. "3.0.8").
std::string LuceneVersion();

}  // namespace warden::skills
