// Procedural (Bernoulli) event delivery for neurosim, called from JAX through the XLA FFI.
//
//   out[b, :] = sum_{i : spikes[b, i] != 0} spikes[b, i] * W[i, :]
//
// where W is never stored: row i of W is regenerated, for the neurons that spiked only, from
// its counter-based stream exactly as neurosim/_streams.py defines it (stream version 2):
//
//   lane k of row i:  (b0, b1) = threefry2x32-20((k0, k1), (i, k))
//   gap_k   = 1 + min(floor(float32(L(b0)) * scale), float32(n_cand)),  L = 2^26 * -log2(v)
//             in fixed point from clz(b0 | 1) and the 4097-entry table (an operand: the same
//             uint32 table the pure-JAX path uses)
//   pos_k   = gap_0 + ... + gap_k - 1; the row is the pos_k < n_cand (skip_self: +1 where
//             pos_k >= i, no autapse)
//   weight  = w (mode 0: scalar / Constant) or low + (high - low) * u (mode 1: Uniform), with
//             u = ((b1 >> 8) + 1/2) * 2^-24 in float32, cast to the output dtype; the
//             multiply-add is one fused (correctly rounded) fma, which is what XLA's CPU
//             backend emits for the JAX quantile (it contracts it into a multiply_add fusion
//             on FMA hardware), so stored and procedural weights agree bit for bit.
//
// Every integer step and the one float32 product of the gap are the operations of the JAX
// code, so targets are bit-identical to the stored CSR built from the same key; the weight of
// a synapse is the same float expression as the JAX quantile (no other contraction:
// -ffp-contract=off).
// Summation order per target is presynaptic index order, as in the CSR kernel
// (event_kernels.cc), so the result equals the stored matrix's delivery bit for bit.
//
// Lanes are generated 32 at a time (two AVX-512 registers, running sums by a vector scan and
// the row's targets compacted in registers, where the CPU has AVX-512 F and CD; else portable
// scalar code; the same rows either way); a row ends at its first position >= n_cand, so no
// row is ever truncated.
// Rows are generated kAhead spiking rows ahead of their delivery and their output entries
// prefetched, so the scatter's cache misses overlap the next rows' generation.
//
// Operands: spikes (..., n_pre) T, key (..., 2) uint32, params (..., 2) T (mode 0: [w, 0],
// mode 1: [low, high]), table (..., 4097) uint32; result (..., n_post) T; T float32/float64.
// Batching: jax.ffi.ffi_call(vmap_method="broadcast_all"), every operand carries the
// output's leading dimensions. Attributes: n_cand, skip_self, mode (int64), scale (float32).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "xla/ffi/api/ffi.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define NS_HAVE_AVX512 1  // an AVX-512 row generator, picked at run time (PickRow)
#else
#define NS_HAVE_AVX512 0
#endif

namespace ffi = xla::ffi;

namespace {

constexpr int kLanes = 32;        // lanes of a row generated together
constexpr int kAhead = 4;         // spiking rows generated ahead of their delivery
constexpr int kTableSize = 4097;  // 2^12 + 1 entries of round(2^26 log2(1 + j / 4096))

struct Stream {
  uint32_t k0, k1;
  const uint32_t* table;
  float scale;     // gap_scale(p)
  float max_g;     // float32(n_cand): the clamp of floor(L * scale)
  int64_t n_cand;  // candidate targets per row
  bool skip_self;
};

template <int R>
inline __attribute__((always_inline)) uint32_t Rotl(uint32_t x) {
  return (x << R) | (x >> (32 - R));
}

template <int R0, int R1, int R2, int R3>
inline __attribute__((always_inline)) void Rounds(uint32_t& a, uint32_t& b) {
  a += b; b = Rotl<R0>(b); b ^= a;
  a += b; b = Rotl<R1>(b); b ^= a;
  a += b; b = Rotl<R2>(b); b ^= a;
  a += b; b = Rotl<R3>(b); b ^= a;
}

// Gaps and weight words of lanes lane0 .. lane0 + kLanes - 1 of row `row` (portable code).
void BlockScalar(const Stream& st, uint32_t row, uint32_t lane0, int32_t* gap, uint32_t* word) {
  const uint32_t k0 = st.k0, k1 = st.k1, k2 = k0 ^ k1 ^ 0x1BD11BDAu;
  const uint32_t* table = st.table;
  for (int j = 0; j < kLanes; ++j) {
    uint32_t a = row + k0, b = lane0 + static_cast<uint32_t>(j) + k1;
    Rounds<13, 15, 26, 6>(a, b);
    a += k1; b += k2 + 1u;
    Rounds<17, 29, 16, 24>(a, b);
    a += k2; b += k0 + 2u;
    Rounds<13, 15, 26, 6>(a, b);
    a += k0; b += k1 + 3u;
    Rounds<17, 29, 16, 24>(a, b);
    a += k1; b += k2 + 4u;
    Rounds<13, 15, 26, 6>(a, b);
    a += k2; b += k0 + 5u;
    // Geometric gap by inversion, integer-only up to one float32 product (see _streams.py).
    const uint32_t r = a | 1u;
    const uint32_t z = static_cast<uint32_t>(__builtin_clz(r));
    const uint32_t f = (r << z) << 1;
    const uint32_t i = f >> 20;
    const uint32_t t = (f >> 4) & 0xFFFFu;
    const uint32_t lo = table[i];
    const uint32_t lg = lo + (((table[i + 1] - lo) * t) >> 16);
    const uint32_t fixed = ((z + 1u) << 26) - lg;
    const float g = std::min(std::floor(static_cast<float>(fixed) * st.scale), st.max_g);
    gap[j] = static_cast<int32_t>(g) + 1;
    word[j] = b;
  }
}

#if NS_HAVE_AVX512
// The same 16 lanes in AVX-512 registers (F: rotates, gathers, uint32 -> float32 with round to
// nearest as XLA converts; CD: lzcnt). Every operation is the scalar one, lane by lane.
template <int R0, int R1, int R2, int R3>
__attribute__((target("avx512f,avx512cd"), always_inline)) inline void Rounds16(
    __m512i& a, __m512i& b, __m512i& x, __m512i& y) {  // two independent 16-lane chains
#define NS_ROUND(R)                                                          \
  a = _mm512_add_epi32(a, b); x = _mm512_add_epi32(x, y);                    \
  b = _mm512_xor_si512(_mm512_rol_epi32(b, R), a);                           \
  y = _mm512_xor_si512(_mm512_rol_epi32(y, R), x);
  NS_ROUND(R0) NS_ROUND(R1) NS_ROUND(R2) NS_ROUND(R3)
#undef NS_ROUND
}

__attribute__((target("avx512f"), always_inline)) inline __m512i c(uint32_t v) {
  return _mm512_set1_epi32(static_cast<int>(v));
}

// Key injection into both chains.
__attribute__((target("avx512f"), always_inline)) inline void inject(__m512i& a, __m512i& b,
                                                                     __m512i& x, __m512i& y,
                                                                     __m512i ka, __m512i kb) {
  a = _mm512_add_epi32(a, ka); x = _mm512_add_epi32(x, ka);
  b = _mm512_add_epi32(b, kb); y = _mm512_add_epi32(y, kb);
}

// Gaps of 16 lanes from their first Threefry words `a`.
__attribute__((target("avx512f,avx512cd"), always_inline)) inline __m512i Gaps16(
    const Stream& st, __m512i a) {
  const __m512i r = _mm512_or_si512(a, c(1u));
  const __m512i z = _mm512_lzcnt_epi32(r);
  const __m512i f = _mm512_slli_epi32(_mm512_sllv_epi32(r, z), 1);
  const __m512i i = _mm512_srli_epi32(f, 20);
  const __m512i t = _mm512_and_si512(_mm512_srli_epi32(f, 4), c(0xFFFFu));
  const int* table = reinterpret_cast<const int*>(st.table);
  const __m512i lo = _mm512_i32gather_epi32(i, table, 4);
  const __m512i hi = _mm512_i32gather_epi32(_mm512_add_epi32(i, c(1u)), table, 4);
  const __m512i lg =
      _mm512_add_epi32(lo, _mm512_srli_epi32(_mm512_mullo_epi32(_mm512_sub_epi32(hi, lo), t), 16));
  const __m512i fixed = _mm512_sub_epi32(_mm512_slli_epi32(_mm512_add_epi32(z, c(1u)), 26), lg);
  __m512 g = _mm512_mul_ps(_mm512_cvtepu32_ps(fixed), _mm512_set1_ps(st.scale));
  g = _mm512_roundscale_ps(g, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
  g = _mm512_min_ps(g, _mm512_set1_ps(st.max_g));
  return _mm512_add_epi32(_mm512_cvttps_epi32(g), c(1u));
}

// Appends the targets (and words) of 16 lanes with gaps g to tgt/word at n; `prev1` is the
// row's last position + 1 (0 at its start). Returns false once the row has ended. Positions
// are the saturating prefix sums of the gaps (saturated at n_cand + 1, past the row's end:
// min(a + b, limit) is associative, so the log-step scan gives the scalar running sum).
__attribute__((target("avx512f,avx512cd"), always_inline)) inline bool Emit16(
    const Stream& st, int64_t row, __m512i g, __m512i words, uint32_t& prev1, int32_t* tgt,
    uint32_t* word, int64_t& n) {
  const __m512i zero = _mm512_setzero_si512();
  const __m512i lim = c(static_cast<uint32_t>(st.n_cand + 1));
  __m512i q = g;
  q = _mm512_min_epu32(_mm512_add_epi32(q, _mm512_alignr_epi32(q, zero, 15)), lim);
  q = _mm512_min_epu32(_mm512_add_epi32(q, _mm512_alignr_epi32(q, zero, 14)), lim);
  q = _mm512_min_epu32(_mm512_add_epi32(q, _mm512_alignr_epi32(q, zero, 12)), lim);
  q = _mm512_min_epu32(_mm512_add_epi32(q, _mm512_alignr_epi32(q, zero, 8)), lim);
  q = _mm512_add_epi32(q, c(prev1));  // position + 1, at most 2 n_cand + 1 < 2^31
  const __mmask16 valid = _mm512_cmple_epu32_mask(q, c(static_cast<uint32_t>(st.n_cand)));
  __m512i pos = _mm512_sub_epi32(q, c(1u));
  if (st.skip_self) {
    const __mmask16 after = _mm512_cmpge_epi32_mask(pos, c(static_cast<uint32_t>(row)));
    pos = _mm512_mask_add_epi32(pos, after, pos, c(1u));
  }
  // Register compress + full store (compress-to-memory is microcoded on some CPUs).
  _mm512_storeu_si512(tgt + n, _mm512_maskz_compress_epi32(valid, pos));
  _mm512_storeu_si512(word + n, _mm512_maskz_compress_epi32(valid, words));
  n += __builtin_popcount(static_cast<unsigned>(valid));
  if (valid != 0xFFFF) return false;
  prev1 = static_cast<uint32_t>(_mm_extract_epi32(_mm512_extracti32x4_epi32(q, 3), 3));
  return true;
}

// Regenerates row `row` into tgt (and its weight words into word): returns its length.
__attribute__((target("avx512f,avx512cd"))) int64_t GenerateRowAvx512(
    const Stream& st, int64_t row, std::vector<int32_t>& tgt, std::vector<uint32_t>& word) {
  const uint32_t k0 = st.k0, k1 = st.k1, k2 = k0 ^ k1 ^ 0x1BD11BDAu;
  const __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const uint32_t r = static_cast<uint32_t>(row);
  uint32_t prev1 = 0;
  int64_t n = 0;
  for (uint32_t lane0 = 0;; lane0 += kLanes) {
    if (static_cast<int64_t>(tgt.size()) < n + 2 * kLanes) {
      tgt.resize(2 * (n + 2 * kLanes));
      word.resize(2 * (n + 2 * kLanes));
    }
    __m512i a = c(r + k0), x = a;
    __m512i b = _mm512_add_epi32(lanes, c(lane0 + k1));
    __m512i y = _mm512_add_epi32(b, c(16u));
    Rounds16<13, 15, 26, 6>(a, b, x, y);
    inject(a, b, x, y, c(k1), c(k2 + 1u));
    Rounds16<17, 29, 16, 24>(a, b, x, y);
    inject(a, b, x, y, c(k2), c(k0 + 2u));
    Rounds16<13, 15, 26, 6>(a, b, x, y);
    inject(a, b, x, y, c(k0), c(k1 + 3u));
    Rounds16<17, 29, 16, 24>(a, b, x, y);
    inject(a, b, x, y, c(k1), c(k2 + 4u));
    Rounds16<13, 15, 26, 6>(a, b, x, y);
    inject(a, b, x, y, c(k2), c(k0 + 5u));
    const __m512i gx = Gaps16(st, x);  // independent of the first half's scan
    if (!Emit16(st, row, Gaps16(st, a), b, prev1, tgt.data(), word.data(), n)) return n;
    if (!Emit16(st, row, gx, y, prev1, tgt.data(), word.data(), n)) return n;
  }
}
#endif

using RowFn = int64_t (*)(const Stream&, int64_t, std::vector<int32_t>&, std::vector<uint32_t>&);

// Regenerates row `row` into tgt (and its weight words into word) with the portable
// generator: returns its length.
int64_t GenerateRowScalar(const Stream& st, int64_t row, std::vector<int32_t>& tgt,
                          std::vector<uint32_t>& word) {
  alignas(64) int32_t gap[kLanes];
  alignas(64) uint32_t w[kLanes];
  const int64_t n_cand = st.n_cand;
  int64_t pos = -1, n = 0;
  for (uint32_t lane0 = 0;; lane0 += kLanes) {
    BlockScalar(st, static_cast<uint32_t>(row), lane0, gap, w);
    if (static_cast<int64_t>(tgt.size()) < n + kLanes) {
      tgt.resize(2 * (n + kLanes));
      word.resize(2 * (n + kLanes));
    }
    for (int j = 0; j < kLanes; ++j) {
      pos += gap[j];
      if (pos >= n_cand) return n;
      tgt[n] = static_cast<int32_t>(pos + (st.skip_self && pos >= row ? 1 : 0));
      word[n] = w[j];
      ++n;
    }
  }
}

// The widest row generator this CPU runs (both give the same rows).
RowFn PickRow() {
#if NS_HAVE_AVX512
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd"))
    return GenerateRowAvx512;
#endif
  return GenerateRowScalar;
}

template <typename T>
struct Weights {
  int64_t mode;  // 0: every synapse weighs a; 1: a + (b - a) * u (Uniform)
  T a, d;        // d = b - a
};

template <typename T>
void DeliverRow(const Weights<T>& w, T s, const int32_t* tgt, const uint32_t* word, int64_t n,
                T* out) {
  if (w.mode == 0) {
    const T v = w.a * s;
    for (int64_t k = 0; k < n; ++k) out[tgt[k]] += v;
  } else {
    for (int64_t k = 0; k < n; ++k) {
      const float top = static_cast<float>(word[k] >> 8);
      const float u = (top + 0.5f) * 5.9604644775390625e-08f;  // 2^-24
      const T wk = std::fma(w.d, static_cast<T>(u), w.a);  // as XLA contracts the quantile
      out[tgt[k]] += wk * s;
    }
  }
}

template <typename T>
struct BitsOf {
  using type = uint32_t;
};
template <>
struct BitsOf<double> {
  using type = uint64_t;
};

// True if any of s[0..kLen) is non-zero (NaN counts, -0.0 does not): an integer bit test the
// compiler vectorises (a float != reduction stays scalar).
template <typename T, int64_t kLen>
inline __attribute__((always_inline)) bool AnyNonZero(const T* s) {
  using B = typename BitsOf<T>::type;
  B acc = 0;
  for (int64_t j = 0; j < kLen; ++j) {
    B bits;
    std::memcpy(&bits, s + j, sizeof(B));
    acc |= static_cast<B>(bits << 1);  // drop the sign bit
  }
  return acc != 0;
}

// Appends the indices i with spikes[i] != 0 to rows, ascending; empty 64-entry blocks of the
// (mostly zero) spike vector are skipped with one vector test.
template <typename T>
void SpikingRows(const T* spikes, int64_t n, std::vector<int64_t>& rows) {
  int64_t i0 = 0;
  for (; i0 + 64 <= n; i0 += 64) {
    if (!AnyNonZero<T, 64>(spikes + i0)) continue;
    for (int64_t j = i0; j < i0 + 64; ++j)
      if (spikes[j] != T(0)) rows.push_back(j);
  }
  for (int64_t i = i0; i < n; ++i)
    if (spikes[i] != T(0)) rows.push_back(i);
}

// out (n_post) = spikes (n_pre) @ W for one batch entry.
template <typename T>
void DeliverAll(const Stream& st, const Weights<T>& w, const T* spikes, int64_t n_pre, T* out,
                int64_t n_post) {
  std::fill(out, out + n_post, T(0));
  std::vector<int64_t> rows;
  SpikingRows(spikes, n_pre, rows);
  const int64_t m = static_cast<int64_t>(rows.size());
  if (m == 0 || st.n_cand <= 0) return;
  static const RowFn generate_row = PickRow();
  std::vector<int32_t> tgt[kAhead];
  std::vector<uint32_t> word[kAhead];
  int64_t len[kAhead] = {};
  auto generate = [&](int64_t c) {
    const int slot = static_cast<int>(c % kAhead);
    len[slot] = generate_row(st, rows[c], tgt[slot], word[slot]);
    const int32_t* t = tgt[slot].data();
    for (int64_t k = 0; k < len[slot]; ++k) __builtin_prefetch(out + t[k], 1, 3);
  };
  for (int64_t c = 0; c < std::min<int64_t>(m, kAhead); ++c) generate(c);
  for (int64_t c = 0; c < m; ++c) {
    const int slot = static_cast<int>(c % kAhead);
    DeliverRow<T>(w, spikes[rows[c]], tgt[slot].data(), word[slot].data(), len[slot], out);
    if (c + kAhead < m) generate(c + kAhead);
  }
}

ffi::Error Fail(const std::string& msg) {
  return ffi::Error::InvalidArgument("neurosim procedural kernel: " + msg);
}

int64_t Last(ffi::Span<const int64_t> d) { return d.size() == 0 ? 1 : d[d.size() - 1]; }

template <typename T>
ffi::Error Run(ffi::AnyBuffer spikes, ffi::AnyBuffer key, ffi::AnyBuffer params,
               ffi::AnyBuffer table, ffi::Result<ffi::AnyBuffer> out, int64_t n_cand,
               int64_t skip_self, int64_t mode, float scale) {
  const int64_t n_post = Last(out->dimensions());
  const int64_t n_pre = Last(spikes.dimensions());
  const int64_t batch = n_post > 0 ? static_cast<int64_t>(out->element_count()) / n_post : 0;
  if (Last(key.dimensions()) != 2 || Last(params.dimensions()) != 2)
    return Fail("key and params must have 2 entries per batch entry");
  if (Last(table.dimensions()) != kTableSize) return Fail("the log2 table must have 4097 entries");
  if (static_cast<int64_t>(spikes.element_count()) != batch * n_pre ||
      static_cast<int64_t>(key.element_count()) != batch * 2 ||
      static_cast<int64_t>(params.element_count()) != batch * 2 ||
      static_cast<int64_t>(table.element_count()) != batch * kTableSize)
    return Fail("operands must carry the output's batch dimensions");
  if (n_cand < 0 || n_cand >= (int64_t{1} << 30) || n_cand > n_post)
    return Fail("n_cand must lie in [0, min(n_post, 2^30))");
  if (skip_self && n_cand + 1 > n_post) return Fail("skip_self needs n_post = n_cand + 1");
  if (mode != 0 && mode != 1) return Fail("mode must be 0 (scalar) or 1 (uniform)");
  const T* s = spikes.typed_data<T>();
  const uint32_t* k = key.typed_data<uint32_t>();
  const T* p = params.typed_data<T>();
  const uint32_t* tab = table.typed_data<uint32_t>();
  T* o = out->typed_data<T>();
  for (int64_t b = 0; b < batch; ++b) {
    const Stream st{k[2 * b],   k[2 * b + 1], tab + b * kTableSize, scale,
                    static_cast<float>(n_cand), n_cand, skip_self != 0};
    const Weights<T> w{mode, p[2 * b], p[2 * b + 1] - p[2 * b]};
    DeliverAll<T>(st, w, s + b * n_pre, n_pre, o + b * n_post, n_post);
  }
  return ffi::Error::Success();
}

ffi::Error ProceduralImpl(ffi::AnyBuffer spikes, ffi::AnyBuffer key, ffi::AnyBuffer params,
                          ffi::AnyBuffer table, ffi::Result<ffi::AnyBuffer> out, int64_t n_cand,
                          int64_t skip_self, int64_t mode, float scale) {
  const auto dt = spikes.element_type();
  if (params.element_type() != dt || out->element_type() != dt)
    return Fail("spikes, params and output must share one float dtype");
  if (key.element_type() != ffi::DataType::U32 || table.element_type() != ffi::DataType::U32)
    return Fail("key and table must be uint32");
  if (dt == ffi::DataType::F32)
    return Run<float>(spikes, key, params, table, out, n_cand, skip_self, mode, scale);
  if (dt == ffi::DataType::F64)
    return Run<double>(spikes, key, params, table, out, n_cand, skip_self, mode, scale);
  return Fail("only float32 and float64 are supported");
}

}  // namespace

// Self-check (tests): the row generator this CPU uses against the portable one, on n_rows
// pseudo-random rows (keys, row indices, n_cand up to 5000, skip_self, p = 1 down to rows
// that are empty). Returns the number of rows whose length, targets or weight words differ,
// or -1 where the portable generator is the one in use (nothing to compare).
extern "C" int64_t neurosim_procedural_selfcheck(const uint32_t* table, uint32_t seed,
                                                 int64_t n_rows) {
  const RowFn generate_row = PickRow();
  if (generate_row == GenerateRowScalar) return -1;
  // gap_scale(p) for p = 1, 0.5, 0.05, 0.005 and a p so small that every row is empty
  const float scales[] = {0.0f, 1.4901161e-08f, 2.0149e-07f, 2.0635e-06f, 3.0e38f};
  uint32_t x = seed | 1u;
  auto next = [&x]() {  // xorshift32
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return x;
  };
  std::vector<int32_t> t0, t1;
  std::vector<uint32_t> w0, w1;
  int64_t bad = 0;
  for (int64_t i = 0; i < n_rows; ++i) {
    const int64_t n_cand = 1 + next() % 5000;
    const Stream st{next(), next(), table, scales[next() % 5], static_cast<float>(n_cand),
                    n_cand, (next() & 1) != 0};
    const int64_t row = next() % (n_cand + 16);
    const int64_t n0 = GenerateRowScalar(st, row, t0, w0);
    const int64_t n1 = generate_row(st, row, t1, w1);
    bool same = n0 == n1;
    for (int64_t k = 0; same && k < n0; ++k) same = t0[k] == t1[k] && w0[k] == w1[k];
    bad += !same;
  }
  return bad;
}

XLA_FFI_DEFINE_HANDLER_SYMBOL(NeurosimProceduralEvent, ProceduralImpl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::AnyBuffer>()  // spikes
                                  .Arg<ffi::AnyBuffer>()  // key words
                                  .Arg<ffi::AnyBuffer>()  // weight parameters
                                  .Arg<ffi::AnyBuffer>()  // log2 table
                                  .Ret<ffi::AnyBuffer>()
                                  .Attr<int64_t>("n_cand")
                                  .Attr<int64_t>("skip_self")
                                  .Attr<int64_t>("mode")
                                  .Attr<float>("scale"));
