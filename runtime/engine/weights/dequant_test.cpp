// Dequantisation against the fixtures: every quantised Linear of model-nvfp4 / model-mixed must (1) equal a
// straightforward decode of codes × scales written here independently, bit for bit, and (2) lie within the
// rounding error the format allows of the unquantised weight in model/ (docs/model.md §5.1). The swapped nibble
// order must fail (2) badly, which is what proves low-nibble-first.
#include "runtime/engine/weights/dequant.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>

#include "runtime/engine/weights/model_info.h"
#include "runtime/engine/weights/weights_test_util.h"

using namespace warden::engine;
using namespace warden::engine::testing;

namespace {

// Independent decoders (definitions of §5.1, not the product code's tables).
double E2M1(unsigned code) {
  static const double mag[8] = {0, 0.5, 1, 1.5, 2, 3, 4, 6};
  return (code & 8) ? -mag[code & 7] : mag[code & 7];
}
double E4M3(unsigned b) {
  const int s = b >> 7, e = (b >> 3) & 15, m = b & 7;
  double v = e == 0 ? std::ldexp(m / 8.0, -6) : std::ldexp(1.0 + m / 8.0, e - 7);
  return s ? -v : v;
}
double Scalar(const TensorView* t) {
  float v;
  std::memcpy(&v, t->data, 4);
  return v;
}

// Largest rounding error of a value of magnitude `a` (in block-scale units) on the E2M1 grid: half the gap
// around it, or the clipping excess above 6.
double E2M1HalfGap(double a) {
  if (a <= 2) return 0.25;
  if (a <= 4) return 0.5;
  if (a <= 6) return 1.0;
  return a - 6.0;
}

struct ErrorStats {
  double max_excess = 0;  // max over elements of |err| - bound (must be <= 0)
  double sq_err = 0, sq_ref = 0;
  int64_t violations = 0;
  std::string first;
};

// Checks one quantised Linear of `q` against the same module in `ref`. `swap` decodes nibbles the wrong way round.
ErrorStats Compare(const ResolvedLinear& lin, const ModelFiles& ref, bool swap) {
  ErrorStats st;
  const TensorView* w_ref = ref.checkpoint().Find(lin.spec.module + ".weight");
  REQUIRE(w_ref != nullptr);
  const std::vector<float> reference = ToFloat(*w_ref);
  const int64_t rows = lin.spec.out_features, cols = lin.spec.in_features;
  REQUIRE(static_cast<int64_t>(reference.size()) == rows * cols);
  auto product = DequantizeWeight(lin);
  REQUIRE(product.ok());
  const auto* w = reinterpret_cast<const uint8_t*>(lin.weight->data);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t k = 0; k < cols; ++k) {
      const double W = reference[static_cast<size_t>(r * cols + k)];
      double decoded = 0, bound = 0;
      if (lin.format == LinearFormat::kFP8) {
        const double sw = Scalar(lin.weight_scale);
        decoded = E4M3(w[r * cols + k]) * sw;
        const double x = std::fabs(W) / sw;
        bound = sw * std::max(x * std::ldexp(1.0, -4), std::ldexp(1.0, -10));
      } else {
        const uint8_t byte = w[r * (cols / 2) + k / 2];
        const bool high = (k % 2 == 1) != swap;
        const unsigned code = high ? byte >> 4 : byte & 15;
        const double bs = E4M3(reinterpret_cast<const uint8_t*>(lin.weight_scale->data)[r * (cols / 16) + k / 16]);
        const double s2 = Scalar(lin.weight_scale_2);
        decoded = E2M1(code) * bs * s2;
        // A block scale that rounded to zero (possible only without ModelOpt's 2^-9 clamp) zeroes its block.
        bound = bs == 0 ? 6 * s2 * std::ldexp(1.0, -10) : bs * s2 * E2M1HalfGap(std::fabs(W) / (bs * s2));
      }
      if (!swap) {
        // Bit-exact agreement with the product decoder: both are the float nearest the exact product.
        const float got = (*product)[static_cast<size_t>(r * cols + k)];
        if (got != static_cast<float>(decoded)) {
          FAIL_CHECK(lin.spec.module << "[" << r << ", " << k << "]: dequant " << got << " != decode " << decoded);
          return st;
        }
      }
      const double err = std::fabs(decoded - W);
      const double excess = err - (bound * (1 + 1e-6) + 1e-30);
      st.max_excess = std::max(st.max_excess, excess);
      if (excess > 0 && st.violations++ < 3)
        st.first += lin.spec.module + "[" + std::to_string(r) + "," + std::to_string(k) + "] W=" + std::to_string(W) +
                    " decoded=" + std::to_string(decoded) + " bound=" + std::to_string(bound) + "; ";
      st.sq_err += err * err;
      st.sq_ref += W * W;
    }
  }
  return st;
}

void CheckFolder(const std::string& quantised, const std::string& reference, int expected_quantised_min) {
  auto q = ModelFiles::Load(Fixture(quantised));
  REQUIRE(q.ok());
  auto ref = ModelFiles::Load(Fixture(reference));
  REQUIRE(ref.ok());
  int checked = 0;
  double worst_rel = 0;
  for (const ResolvedLinear& lin : q->linears()) {
    if (lin.format == LinearFormat::kBF16) {
      // Unquantised Linears are stored as BF16 and must equal the reference values.
      auto a = DequantizeWeight(lin);
      REQUIRE(a.ok());
      const auto b = ToFloat(*ref->checkpoint().Find(lin.spec.module + ".weight"));
      double max_diff = 0;
      for (size_t i = 0; i < b.size(); ++i) max_diff = std::max(max_diff, std::fabs(double(a->at(i)) - b[i]));
      INFO(lin.spec.module);
      // tiny-a's reference is F32 while its quantised folder stores BF16: allow BF16 rounding there.
      CHECK(max_diff <= 1e-2 * (1 + std::fabs(*std::max_element(b.begin(), b.end()))));
      continue;
    }
    INFO(lin.spec.module << " " << LinearFormatName(lin.format));
    ErrorStats st = Compare(lin, *ref, false);
    if (st.violations) FAIL_CHECK(st.violations << " elements outside the format's bound; first: " << st.first);
    const double rel = std::sqrt(st.sq_err / st.sq_ref);
    worst_rel = std::max(worst_rel, rel);
    if (lin.format != LinearFormat::kFP8) {
      ErrorStats swapped = Compare(lin, *ref, true);
      const double rel_swapped = std::sqrt(swapped.sq_err / swapped.sq_ref);
      // Swapping nibbles pairs each value with its neighbour's code: error near the weights' own size.
      CHECK(rel_swapped > 5 * rel);
      CHECK(swapped.violations > 0);
    }
    ++checked;
  }
  WARN(quantised << ": " << checked << " quantised Linears within bounds; worst relative Frobenius error "
                 << worst_rel);
  CHECK(checked >= expected_quantised_min);
}

}  // namespace

TEST_CASE("E2M1 codes", "[engine][weights]") {
  const float expect[16] = {0, 0.5f, 1, 1.5f, 2, 3, 4, 6, -0.0f, -0.5f, -1, -1.5f, -2, -3, -4, -6};
  for (uint8_t c = 0; c < 16; ++c) CHECK(E2M1ToFloat(c) == expect[c]);
  CHECK(std::signbit(E2M1ToFloat(8)));
  CHECK(E2M1ToFloat(0xF7) == 6.0f);  // only the low nibble counts
}

TEST_CASE("tiny-c model-nvfp4 dequantises within NVFP4 error of model/", "[engine][weights][slow]") {
  CheckFolder("qwen3_5-tiny-c/model-nvfp4", "qwen3_5-tiny-c/model", 50);
}

TEST_CASE("tiny-c model-mixed FP8 and W4A16_NVFP4 layers dequantise within their error of model/",
          "[engine][weights][slow]") {
  CheckFolder("qwen3_5-tiny-c/model-mixed", "qwen3_5-tiny-c/model", 51);
}

TEST_CASE("tiny-a model-nvfp4 (per-module scales, ties down) dequantises within NVFP4 error of model/",
          "[engine][weights][slow]") {
  CheckFolder("qwen3_5-tiny-a/model-nvfp4", "qwen3_5-tiny-a/model", 50);
}

TEST_CASE("DequantizeRows ranges", "[engine][weights]") {
  auto q = ModelFiles::Load(Fixture("qwen3_5-tiny-c/model-mixed"));
  REQUIRE(q.ok());
  const ResolvedLinear* lm = q->FindLinear("lm_head");
  REQUIRE(lm != nullptr);
  CHECK(lm->format == LinearFormat::kW4A16NVFP4);
  auto all = DequantizeWeight(*lm);
  REQUIRE(all.ok());
  std::vector<float> rows;
  REQUIRE(DequantizeRows(*lm, 5, 9, &rows).ok());
  REQUIRE(rows.size() == 4u * 128u);
  CHECK(std::equal(rows.begin(), rows.end(), all->begin() + 5 * 128));
  CHECK_FALSE(DequantizeRows(*lm, 9, 5, &rows).ok());
  // Unquantised Linears come back as their stored values (F32 in tiny-a, BF16 in tiny-c).
  for (const char* dir : {"qwen3_5-tiny-a/model", "qwen3_5-tiny-c/model"}) {
    auto plain = ModelFiles::Load(Fixture(dir));
    REQUIRE(plain.ok());
    const ResolvedLinear* head = plain->FindLinear("lm_head");
    REQUIRE(head != nullptr);
    CHECK(head->format == LinearFormat::kBF16);
    auto w = DequantizeWeight(*head);
    REQUIRE(w.ok());
    CHECK(*w == ToFloat(*head->weight));
    REQUIRE(DequantizeRows(*head, 3, 4, &rows).ok());
    CHECK(std::equal(rows.begin(), rows.end(), w->begin() + 3 * head->spec.in_features));
  }
  CHECK_FALSE(DequantizeRows(*lm, 0, 2049, &rows).ok());
}
