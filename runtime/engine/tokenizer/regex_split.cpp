// The Split pre-tokenizer (../shared/docs/model.md §6.1): the pattern read from tokenizer.json, written for the
// Oniguruma engine Hugging Face tokenizers uses, is translated to PCRE2 syntax, compiled with UTF+UCP (JIT when the
// platform has it) and used to cut text into pieces with HF's five delimiter behaviours.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>

#include "runtime/engine/tokenizer/tokenizer_internal.h"

namespace warden::engine::detail {
namespace {

bool IsHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

Status RegexError(std::string_view pattern, size_t offset, std::string_view what) {
  return Status::InvalidArgument("regex \"" + std::string(pattern) + "\" at offset " + std::to_string(offset) + ": " +
                                 std::string(what));
}

}  // namespace

Result<std::string> TranslateOnigurumaToPcre2(std::string_view p) {
  std::string out;
  out.reserve(p.size() + 32);
  bool in_class = false;
  size_t class_start = 0;  // index in `p` just after "[" or "[^", where a "]" is still literal
  for (size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '\\') {
      if (i + 1 >= p.size()) return RegexError(p, i, "trailing backslash");
      const char e = p[++i];
      switch (e) {
        case 's':
          out += "\\p{White_Space}";
          break;
        case 'S':
          out += "\\P{White_Space}";
          break;
        case 'h':
          out += in_class ? "0-9a-fA-F" : "[0-9a-fA-F]";
          break;
        case 'H':
          if (in_class) return RegexError(p, i - 1, "\\H inside a character class is not supported");
          out += "[^0-9a-fA-F]";
          break;
        case 'u':
          if (i + 4 < p.size() && IsHex(p[i + 1]) && IsHex(p[i + 2]) && IsHex(p[i + 3]) && IsHex(p[i + 4])) {
            out += "\\x{" + std::string(p.substr(i + 1, 4)) + "}";
            i += 4;
          } else {
            return RegexError(p, i - 1, "\\u must be followed by four hex digits");
          }
          break;
        default:
          out += '\\';
          out += e;
      }
      continue;
    }
    if (in_class) {
      if (c == ']' && i != class_start) {
        in_class = false;
      } else if (c == '[') {
        if (i + 1 < p.size() && p[i + 1] == ':') {  // POSIX class [:alpha:], same in both dialects
          size_t close = p.find(":]", i + 2);
          if (close == std::string_view::npos) return RegexError(p, i, "unterminated POSIX class");
          out.append(p.substr(i, close + 2 - i));
          i = close + 1;
          continue;
        }
        return RegexError(p, i, "nested character classes are not supported");
      } else if (c == '&' && i + 1 < p.size() && p[i + 1] == '&') {
        return RegexError(p, i, "character class intersection (&&) is not supported");
      }
      out += c;
      continue;
    }
    if (c == '[') {
      in_class = true;
      out += c;
      if (i + 1 < p.size() && p[i + 1] == '^') {
        out += '^';
        ++i;
      }
      class_start = i + 1;
      continue;
    }
    if (c == '(' && i + 1 < p.size() && p[i + 1] == '?') {
      // Inline flags "(?imx-imx)" or "(?imx-imx:". In Ruby syntax 'm' is what PCRE2 calls 's' (dot matches \n).
      size_t j = i + 2;
      while (j < p.size() && (p[j] == 'i' || p[j] == 'm' || p[j] == 'x' || p[j] == '-')) ++j;
      if (j > i + 2 && j < p.size() && (p[j] == ':' || p[j] == ')')) {
        out += "(?";
        for (size_t k = i + 2; k < j; ++k) out += p[k] == 'm' ? 's' : p[k];
        i = j - 1;
        continue;
      }
    }
    out += c;
  }
  if (in_class) return RegexError(p, p.size(), "unterminated character class");
  return out;
}

Result<std::shared_ptr<const Regex>> Regex::Compile(std::string_view pattern, bool literal) {
  std::string translated;
  if (literal) {
    translated = std::string(pattern);
  } else {
    WARDEN_ASSIGN_OR_RETURN(translated, TranslateOnigurumaToPcre2(pattern));
  }
  pcre2_compile_context* cctx = pcre2_compile_context_create(nullptr);
  if (cctx == nullptr) return Status::ResourceExhausted("out of memory compiling a regex");
  pcre2_set_newline(cctx, PCRE2_NEWLINE_LF);  // Oniguruma knows only \n as a line end
  uint32_t options = PCRE2_UTF;
  // PCRE2 refuses UCP with LITERAL (it has no classes to affect). In Ruby syntax ^ and $ are line anchors.
  options |= literal ? PCRE2_LITERAL : (PCRE2_UCP | PCRE2_MULTILINE);
  int error_code = 0;
  PCRE2_SIZE error_offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(translated.data()), translated.size(), options,
                                   &error_code, &error_offset, cctx);
  pcre2_compile_context_free(cctx);
  if (code == nullptr) {
    PCRE2_UCHAR buf[256];
    pcre2_get_error_message(error_code, buf, sizeof buf);
    return Status::InvalidArgument("regex \"" + std::string(pattern) + "\" (as PCRE2: \"" + translated +
                                   "\") does not compile at offset " + std::to_string(error_offset) + ": " +
                                   reinterpret_cast<const char*>(buf));
  }
  // JIT is an optimisation only: when the platform lacks it, pcre2_match interprets.
  (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  auto regex = std::make_shared<Regex>(PrivateTag{});
  regex->code_ = code;
  regex->source_ = std::string(pattern);
  return std::shared_ptr<const Regex>(std::move(regex));
}

Regex::~Regex() { pcre2_code_free(static_cast<pcre2_code*>(code_)); }

Status Regex::FindAll(std::string_view subject, std::vector<Match>& out) const {
  auto* code = static_cast<pcre2_code*>(code_);
  pcre2_match_data* md = pcre2_match_data_create_from_pattern(code, nullptr);
  if (md == nullptr) return Status::ResourceExhausted("out of memory matching a regex");
  const auto* subj = reinterpret_cast<PCRE2_SPTR>(subject.data());
  // Oniguruma's find_iter: an empty match right where the previous match ended is skipped by stepping one
  // character on; any other empty match is reported (it still splits the text).
  size_t pos = 0;
  size_t last_match_end = std::string_view::npos;
  Status status;
  while (pos <= subject.size()) {
    int rc = pcre2_match(code, subj, subject.size(), pos, PCRE2_NO_UTF_CHECK, md, nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) {
      PCRE2_UCHAR buf[256];
      pcre2_get_error_message(rc, buf, sizeof buf);
      status = Status::ResourceExhausted("regex \"" + source_ + "\" failed at byte " + std::to_string(pos) + ": " +
                                         reinterpret_cast<const char*>(buf));
      break;
    }
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    const size_t b = ov[0], e = std::max(ov[0], ov[1]);  // \K can put the end before the start
    if (b == e && e == last_match_end) {
      if (pos >= subject.size()) break;
      NextCodePoint(subject, pos);
      continue;
    }
    out.push_back({b, e});
    pos = last_match_end = e;
  }
  pcre2_match_data_free(md);
  return status;
}

Status SplitByRegex(const Regex& regex, SplitBehavior behavior, bool invert, std::string_view subject,
                    std::vector<std::string_view>& out) {
  if (subject.empty()) return Status::Ok();
  std::vector<Regex::Match> matches;
  WARDEN_RETURN_IF_ERROR(regex.FindAll(subject, matches));
  // (begin, end, is_delimiter) covering the subject in order.
  struct Span {
    size_t b, e;
    bool delim;
  };
  std::vector<Span> spans;
  spans.reserve(matches.size() * 2 + 1);
  size_t prev = 0;
  for (const auto& m : matches) {
    if (m.begin > prev) spans.push_back({prev, m.begin, invert});
    spans.push_back({m.begin, m.end, !invert});
    prev = m.end;
  }
  if (prev < subject.size()) spans.push_back({prev, subject.size(), invert});

  std::vector<Span> pieces;
  pieces.reserve(spans.size());
  switch (behavior) {
    case SplitBehavior::kIsolated:
      pieces = std::move(spans);
      break;
    case SplitBehavior::kRemoved:
      for (const auto& s : spans) {
        if (!s.delim) pieces.push_back(s);
      }
      break;
    case SplitBehavior::kMergedWithPrevious: {
      bool prev_delim = false;
      for (const auto& s : spans) {
        if (s.delim && !prev_delim && !pieces.empty()) {
          pieces.back().e = s.e;
        } else {
          pieces.push_back(s);
        }
        prev_delim = s.delim;
      }
      break;
    }
    case SplitBehavior::kMergedWithNext: {
      bool prev_delim = false;
      for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
        if (it->delim && !prev_delim && !pieces.empty()) {
          pieces.back().b = it->b;
        } else {
          pieces.push_back(*it);
        }
        prev_delim = it->delim;
      }
      std::reverse(pieces.begin(), pieces.end());
      break;
    }
    case SplitBehavior::kContiguous: {
      bool prev_delim = false;
      for (const auto& s : spans) {
        if (s.delim == prev_delim && !pieces.empty()) {
          pieces.back().e = s.e;
        } else {
          pieces.push_back(s);
        }
        prev_delim = s.delim;
      }
      break;
    }
  }
  for (const auto& s : pieces) {
    if (s.e > s.b) out.push_back(subject.substr(s.b, s.e - s.b));
  }
  return Status::Ok();
}

}  // namespace warden::engine::detail
