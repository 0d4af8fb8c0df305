// Event-driven spike delivery kernels for neurosim, called from JAX through the XLA FFI.
//
//   out[b, :] = base[b, :] * scale[b, :] + sum_{i : spikes[b, i] != 0} spikes[b, i] * W[i, :]
//
// `base` and `scale` are optional: an operand whose last dimension has size 0 means "absent"
// (base = 0, scale = 1); `scale` may also be a scalar per batch entry. With them a linear
// receptor's decay (g <- g * exp(-dt / tau)) is fused with the delivery into one pass.
//
// Only the rows of neurons that spiked are touched: the spike vector is scanned in blocks of
// 16 with a branch-free "any non-zero?" test the compiler vectorises, and every non-zero entry
// scatters its row. Two connectivity formats:
//   CSR : indptr (n_pre + 1) int32, indices (L) int32, weights () or (L)
//   ELL : targets (n_pre, k) int32, weights () or (n_pre, k)
// Targets outside [0, n_post) are skipped (the padding convention of neurosim.ops: n_post).
// Summation order per target is presynaptic index order (rows ascending, then row entries).
//
// Batching: every operand may carry the same number m of leading batch dimensions (what
// jax.ffi.ffi_call(vmap_method="expand_dims") produces); a batch dimension of size 1
// broadcasts. The output has the full batch shape, so vmap over spike vectors is one call
// (a matrix-matrix product), not a loop of calls.
//
// Built by neurosim/ops/_build.py with the system C++ compiler; the pure-JAX backends are the
// reference these kernels are tested against (tests/test_ops_backends.py).

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "xla/ffi/api/ffi.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && defined(__linux__)
// One binary for every x86-64 CPU: the loader picks the widest vector ISA available.
#define NS_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define NS_CLONES
#endif

namespace ffi = xla::ffi;

namespace {


// Maps a flat batch index of the output to element offsets of a broadcasting operand.
class BatchIndexer {
 public:
  BatchIndexer(ffi::Span<const int64_t> out_dims, int64_t core_rank) {
    const int64_t m = static_cast<int64_t>(out_dims.size()) - core_rank;
    dims_.assign(out_dims.begin(), out_dims.begin() + std::max<int64_t>(m, 0));
    for (int64_t d : dims_) count_ *= d;
  }
  int64_t rank() const { return static_cast<int64_t>(dims_.size()); }
  int64_t count() const { return count_; }

  // Element strides per batch dim of an operand (0 where it broadcasts); false if its batch
  // shape is not broadcastable to the output's.
  bool Strides(ffi::Span<const int64_t> dims, int64_t core_rank, std::vector<int64_t>* out) const {
    const int64_t m = static_cast<int64_t>(dims.size()) - core_rank;
    if (m < 0 || m > rank()) return false;
    int64_t s = 1;
    for (int64_t i = m; i < static_cast<int64_t>(dims.size()); ++i) s *= dims[i];
    out->assign(rank(), 0);
    for (int64_t i = m - 1; i >= 0; --i) {
      const int64_t oi = i + rank() - m;  // batch dims align to the right
      if (dims[i] != 1 && dims[i] != dims_[oi]) return false;
      (*out)[oi] = dims[i] == 1 ? 0 : s;
      s *= dims[i];
    }
    return true;
  }

  int64_t Offset(int64_t flat, const std::vector<int64_t>& strides) const {
    int64_t off = 0;
    for (int64_t i = rank() - 1; i >= 0; --i) {
      off += (flat % dims_[i]) * strides[i];
      flat /= dims_[i];
    }
    return off;
  }

 private:
  std::vector<int64_t> dims_;
  int64_t count_ = 1;
};

template <typename T>
struct BitsOf;
template <>
struct BitsOf<float> {
  using type = uint32_t;
};
template <>
struct BitsOf<double> {
  using type = uint64_t;
};

// True if any of s[0..kLen) is non-zero (NaN counts as non-zero, -0.0 as zero). Integer bit
// tests: compilers vectorise this, while a float `!=` OR-reduction stays scalar (25x slower).
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

constexpr int kChunk = 256;  // spiking rows collected before delivery
constexpr int kAhead = 8;    // rows whose synapse lists are prefetched ahead of delivery
constexpr int kTargetsAhead = 4;  // rows whose target entries (out[t]) are prefetched
constexpr int64_t kMaxPrefetchBytes = 1024;

inline __attribute__((always_inline)) void PrefetchRange(const void* p, int64_t bytes) {
  const char* c = static_cast<const char*>(p);
  bytes = std::min(bytes, kMaxPrefetchBytes);  // hardware prefetch takes over on long rows
  for (int64_t off = 0; off < bytes; off += 64) __builtin_prefetch(c + off, 0, 3);
}

// Calls deliver(i, spikes[i]) for every non-zero spike, in ascending i. Empty 64- and 8-wide
// blocks are skipped with branch-free vector compares (spike vectors are mostly zero).
// Spiking rows are gathered in chunks (locate(i) runs as each is found: it prefetches the row
// pointer). Delivery is memory-latency bound once synapse lists and output exceed the caches,
// so it is software-pipelined: prefetch(i) (the synapse list) is issued kAhead rows and
// prefetch_targets(i) (the output entries out[t]) kTargetsAhead rows before deliver(i),
// keeping many cache misses in flight instead of one at a time (2-3x at 40,000 neurons).
template <typename T, typename L, typename P, typename Q, typename D>
inline __attribute__((always_inline)) void ForEachSpike(const T* s, int64_t n, L&& locate,
                                                        P&& prefetch, Q&& prefetch_targets,
                                                        D&& deliver) {
  int64_t rows[kChunk];
  T vals[kChunk];
  int m = 0;
  auto flush = [&]() {
    for (int c = 0; c < std::min(m, kAhead); ++c) prefetch(rows[c]);
    for (int c = 0; c < std::min(m, kTargetsAhead); ++c) prefetch_targets(rows[c]);
    for (int c = 0; c < m; ++c) {
      if (c + kAhead < m) prefetch(rows[c + kAhead]);
      if (c + kTargetsAhead < m) prefetch_targets(rows[c + kTargetsAhead]);
      deliver(rows[c], vals[c]);
    }
    m = 0;
  };
  auto push = [&](int64_t j) {
    locate(j);
    rows[m] = j;
    vals[m] = s[j];
    if (++m == kChunk) flush();
  };
  int64_t i0 = 0;
  for (; i0 + 64 <= n; i0 += 64) {
    if (!AnyNonZero<T, 64>(s + i0)) continue;
    for (int64_t j0 = i0; j0 < i0 + 64; j0 += 8) {
      if (!AnyNonZero<T, 8>(s + j0)) continue;
      for (int64_t j = j0; j < j0 + 8; ++j)
        if (s[j] != T(0)) push(j);
    }
  }
  for (int64_t i = i0; i < n; ++i)
    if (s[i] != T(0)) push(i);
  flush();
}

template <typename T>
NS_CLONES void InitRow(T* out, int64_t n, const T* base, const T* scale, bool scale_full) {
  if (base == nullptr) {
    std::fill(out, out + n, T(0));
  } else if (scale == nullptr) {
    if (base != out) std::memcpy(out, base, sizeof(T) * n);
  } else if (scale_full) {
    for (int64_t j = 0; j < n; ++j) out[j] = base[j] * scale[j];
  } else {
    const T a = scale[0];
    for (int64_t j = 0; j < n; ++j) out[j] = base[j] * a;
  }
}

template <typename T>
NS_CLONES void CsrRows(const T* spikes, int64_t n_pre, const int32_t* indptr,
                       const int32_t* indices, int64_t len, const T* w, bool homogeneous, T* out,
                       int64_t n_post) {
  const uint32_t npost = static_cast<uint32_t>(n_post);
  auto prefetch = [&](int64_t i) {
    const int64_t a = std::max<int64_t>(0, indptr[i]);
    const int64_t bytes = (std::min<int64_t>(len, indptr[i + 1]) - a) * 4;
    PrefetchRange(indices + a, bytes);
    if (!homogeneous) PrefetchRange(w + a, bytes * sizeof(T) / 4);
  };
  auto locate = [&](int64_t i) { __builtin_prefetch(indptr + i, 0, 3); };
  auto prefetch_targets = [&](int64_t i) {
    const int64_t a = std::max<int64_t>(0, indptr[i]);
    const int64_t b = std::min<int64_t>(len, indptr[i + 1]);
    for (int64_t p = a; p < b; ++p) {
      const uint32_t t = static_cast<uint32_t>(indices[p]);
      if (t < npost) __builtin_prefetch(out + t, 1, 3);
    }
  };
  ForEachSpike(spikes, n_pre, locate, prefetch, prefetch_targets, [&](int64_t i, T si) {
    const int64_t a = std::max<int64_t>(0, indptr[i]);
    const int64_t b = std::min<int64_t>(len, indptr[i + 1]);
    if (homogeneous) {
      const T v = w[0] * si;
      for (int64_t p = a; p < b; ++p) {
        const uint32_t t = static_cast<uint32_t>(indices[p]);
        if (t < npost) out[t] += v;
      }
    } else {
      for (int64_t p = a; p < b; ++p) {
        const uint32_t t = static_cast<uint32_t>(indices[p]);
        if (t < npost) out[t] += si * w[p];
      }
    }
  });
}

template <typename T>
NS_CLONES void EllRows(const T* spikes, int64_t n_pre, const int32_t* targets, int64_t k,
                       const T* w, bool homogeneous, T* out, int64_t n_post) {
  const uint32_t npost = static_cast<uint32_t>(n_post);
  auto prefetch = [&](int64_t i) {
    PrefetchRange(targets + i * k, k * 4);
    if (!homogeneous) PrefetchRange(w + i * k, k * sizeof(T));
  };
  auto locate = [](int64_t) {};
  auto prefetch_targets = [&](int64_t i) {
    const int32_t* row = targets + i * k;
    for (int64_t p = 0; p < k; ++p) {
      const uint32_t t = static_cast<uint32_t>(row[p]);
      if (t < npost) __builtin_prefetch(out + t, 1, 3);
    }
  };
  ForEachSpike(spikes, n_pre, locate, prefetch, prefetch_targets, [&](int64_t i, T si) {
    const int32_t* row = targets + i * k;
    if (homogeneous) {
      const T v = w[0] * si;
      for (int64_t p = 0; p < k; ++p) {
        const uint32_t t = static_cast<uint32_t>(row[p]);
        if (t < npost) out[t] += v;
      }
    } else {
      const T* wr = w + i * k;
      for (int64_t p = 0; p < k; ++p) {
        const uint32_t t = static_cast<uint32_t>(row[p]);
        if (t < npost) out[t] += si * wr[p];
      }
    }
  });
}

ffi::Error Fail(const std::string& msg) {
  return ffi::Error::InvalidArgument("neurosim event kernel: " + msg);
}

int64_t Last(ffi::Span<const int64_t> d, int64_t from_end = 1) {
  return static_cast<int64_t>(d.size()) >= from_end ? d[d.size() - from_end] : 1;
}

// kCsr: operands (spikes, indptr, indices, weights, base, scale); else (spikes, targets,
// weights, base, scale) with `a1` unused.
template <typename T, bool kCsr>
ffi::Error Run(ffi::AnyBuffer spikes, ffi::AnyBuffer a0, ffi::AnyBuffer a1, ffi::AnyBuffer weights,
               ffi::AnyBuffer base, ffi::AnyBuffer scale, ffi::Result<ffi::AnyBuffer> out) {
  auto odims = out->dimensions();
  if (odims.size() < 1) return Fail("output must have rank >= 1");
  const int64_t n_post = Last(odims);
  const BatchIndexer bi(odims, 1);
  auto sdims = spikes.dimensions();
  if (static_cast<int64_t>(sdims.size()) != bi.rank() + 1) return Fail("spikes rank mismatch");
  const int64_t n_pre = Last(sdims);

  auto wdims = weights.dimensions();
  const int64_t w_core = static_cast<int64_t>(wdims.size()) - bi.rank();
  if (w_core != 0 && w_core != (kCsr ? 1 : 2)) return Fail("weights have an unexpected rank");
  const bool homogeneous = (w_core == 0);
  const bool has_base = Last(base.dimensions()) != 0;
  const bool has_scale = Last(scale.dimensions()) != 0;
  const int64_t scale_core = static_cast<int64_t>(scale.dimensions().size()) - bi.rank();
  if (has_scale && !has_base) return Fail("scale given without base");
  if (has_base && Last(base.dimensions()) != n_post) return Fail("base must have n_post entries");
  if (has_scale && scale_core == 1 && Last(scale.dimensions()) != n_post)
    return Fail("scale must be a scalar or have n_post entries");

  std::vector<int64_t> st_s, st_a0, st_a1, st_w, st_b, st_c;
  bool ok = bi.Strides(sdims, 1, &st_s) && bi.Strides(a0.dimensions(), kCsr ? 1 : 2, &st_a0) &&
            (!kCsr || bi.Strides(a1.dimensions(), 1, &st_a1)) &&
            bi.Strides(wdims, w_core, &st_w) &&
            (!has_base || bi.Strides(base.dimensions(), 1, &st_b)) &&
            (!has_scale || bi.Strides(scale.dimensions(), scale_core, &st_c));
  if (!ok) return Fail("operand batch shapes do not broadcast to the output's");

  auto a0d = a0.dimensions();
  int64_t len = 0, k = 0;
  if (kCsr) {
    if (Last(a0d) != n_pre + 1) return Fail("indptr must have n_pre + 1 entries");
    len = Last(a1.dimensions());
    if (!homogeneous && Last(wdims) != len) return Fail("weights and indices differ in length");
  } else {
    if (a0d.size() < 2 || Last(a0d, 2) != n_pre) return Fail("targets must have n_pre rows");
    k = Last(a0d);
    if (!homogeneous && (Last(wdims) != k || Last(wdims, 2) != n_pre))
      return Fail("weights and targets differ in shape");
  }

  const T* s = spikes.typed_data<T>();
  const int32_t* p0 = a0.typed_data<int32_t>();
  const int32_t* p1 = kCsr ? a1.typed_data<int32_t>() : nullptr;
  const T* w = weights.typed_data<T>();
  const T* pb = has_base ? base.typed_data<T>() : nullptr;
  const T* pc = has_scale ? scale.typed_data<T>() : nullptr;
  T* o = out->typed_data<T>();
  for (int64_t b = 0; b < bi.count(); ++b) {
    T* orow = o + b * n_post;
    InitRow<T>(orow, n_post, pb ? pb + bi.Offset(b, st_b) : nullptr,
               pc ? pc + bi.Offset(b, st_c) : nullptr, scale_core == 1);
    const T* srow = s + bi.Offset(b, st_s);
    const T* wrow = w + bi.Offset(b, st_w);
    if (kCsr) {
      CsrRows<T>(srow, n_pre, p0 + bi.Offset(b, st_a0), p1 + bi.Offset(b, st_a1), len, wrow,
                 homogeneous, orow, n_post);
    } else {
      EllRows<T>(srow, n_pre, p0 + bi.Offset(b, st_a0), k, wrow, homogeneous, orow, n_post);
    }
  }
  return ffi::Error::Success();
}

template <bool kCsr>
ffi::Error Dispatch(ffi::AnyBuffer spikes, ffi::AnyBuffer a0, ffi::AnyBuffer a1,
                    ffi::AnyBuffer weights, ffi::AnyBuffer base, ffi::AnyBuffer scale,
                    ffi::Result<ffi::AnyBuffer> out) {
  const auto dt = spikes.element_type();
  if (weights.element_type() != dt || out->element_type() != dt ||
      base.element_type() != dt || scale.element_type() != dt)
    return Fail("spikes, weights, base, scale and output must share one float dtype");
  if (a0.element_type() != ffi::DataType::S32 || a1.element_type() != ffi::DataType::S32)
    return Fail("index arrays must be int32");
  if (dt == ffi::DataType::F32) return Run<float, kCsr>(spikes, a0, a1, weights, base, scale, out);
  if (dt == ffi::DataType::F64) return Run<double, kCsr>(spikes, a0, a1, weights, base, scale, out);
  return Fail("only float32 and float64 are supported");
}

ffi::Error CsrImpl(ffi::AnyBuffer spikes, ffi::AnyBuffer indptr, ffi::AnyBuffer indices,
                   ffi::AnyBuffer weights, ffi::AnyBuffer base, ffi::AnyBuffer scale,
                   ffi::Result<ffi::AnyBuffer> out) {
  return Dispatch<true>(spikes, indptr, indices, weights, base, scale, out);
}

ffi::Error EllImpl(ffi::AnyBuffer spikes, ffi::AnyBuffer targets, ffi::AnyBuffer weights,
                   ffi::AnyBuffer base, ffi::AnyBuffer scale, ffi::Result<ffi::AnyBuffer> out) {
  return Dispatch<false>(spikes, targets, targets, weights, base, scale, out);
}

}  // namespace

XLA_FFI_DEFINE_HANDLER_SYMBOL(NeurosimCsrEvent, CsrImpl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::AnyBuffer>()  // spikes
                                  .Arg<ffi::AnyBuffer>()  // indptr
                                  .Arg<ffi::AnyBuffer>()  // indices
                                  .Arg<ffi::AnyBuffer>()  // weights
                                  .Arg<ffi::AnyBuffer>()  // base
                                  .Arg<ffi::AnyBuffer>()  // scale
                                  .Ret<ffi::AnyBuffer>());

XLA_FFI_DEFINE_HANDLER_SYMBOL(NeurosimEllEvent, EllImpl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::AnyBuffer>()  // spikes
                                  .Arg<ffi::AnyBuffer>()  // targets
                                  .Arg<ffi::AnyBuffer>()  // weights
                                  .Arg<ffi::AnyBuffer>()  // base
                                  .Arg<ffi::AnyBuffer>()  // scale
                                  .Ret<ffi::AnyBuffer>());
