// Event-driven STDP weight updates on CSR storage, called from JAX through the XLA FFI.
//
//   neurosim_stdp_update(w, indptr, indices, col_ptr, col_syn, col_pre, pre_tr, post_tr,
//                        s_pre, s_post, params; rule) -> w'   (w' aliases w: updated in place)
//   neurosim_stdp_deliver_update(same operands) -> (out, w'): also delivers this step's
//       presynaptic spikes through the weights before the update, out = s_pre @ W (n_post),
//       reading each weight once. Fused, XLA needs no copy of w to keep the old weights
//       for a separate delivery kernel while the update writes them in place.
//
// The same update as the pure-JAX reference (neurosim/plasticity/_events.py, the event loops
// and the dense masks), in the same order and with the same arithmetic:
//
//   1. every presynaptic neuron i with s_pre[i] != 0, for each synapse p of its CSR row
//      (indptr[i] .. indptr[i+1]) onto j = indices[p]:
//        w[p] = clip(w[p] + s_pre[i] * on_pre(w[p], pre_tr[:, i], post_tr[:, j]))
//   2. then every postsynaptic neuron j with s_post[j] != 0, for each incoming synapse
//      p = col_syn[k] from i = col_pre[k], k in col_ptr[j] .. col_ptr[j+1]:
//        w[p] = clip(w[p] + s_post[j] * on_post(w[p], pre_tr[:, i], post_tr[:, j]))
//
// clip(x) = min(max(x, w_min), w_max), NaN-propagating like XLA's max/min; the weight is
// then stored as w + (clip(...) - w), the loops' scatter-add of the change. Each synapse is
// touched at most once per phase (rows are disjoint, columns are disjoint), so the order
// of the neurons within a phase does not matter. Traces are (K, n) row-major, read before
// this step's spikes are added (the caller computes them, so trace decay is XLA's exp).
//
// Rules (attribute `rule`), params in the dtype of w:
//   0 pair    [a_plus, a_minus, w_min, w_max, mu_plus, mu_minus], K_pre = K_post = 1:
//       on_pre  = (-a_minus * soft(norm(w), mu_minus)) * y0[j]
//       on_post = (a_plus * soft(1 - norm(w), mu_plus)) * x0[i]
//       norm(w) = (w - w_min) / (w_max - w_min); soft(b, mu) = 1 if mu == 0 else
//       max(b, 0) ** mu
//   1 triplet [a2_plus, a3_plus, a2_minus, a3_minus, w_min, w_max], K_pre = K_post = 2:
//       on_pre  = (-y0[j]) * (a2_minus + a3_minus * x1[i])
//       on_post = x0[i] * (a2_plus + a3_plus * y1[j])
//
// Rounding: XLA's CPU backend contracts `a + b * c` into one fused multiply-add when the
// host has FMA (it compiles for the host), so the kernel does the same at the same places,
// MulAdd below: `w + s * d` and the triplet's `a2 + a3 * trace`; everything else (the build
// uses -ffp-contract=off) rounds each product and sum. A version of the loops with FMA is
// picked at run time on x86-64 CPUs that have it. Batching: vmap_method="sequential" on
// the JAX side (one call per batch entry).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "spike_scan.h"
#include "xla/ffi/api/ffi.h"

namespace ffi = xla::ffi;

namespace {

// a * b + c, fused (one rounding) when kFma: XLA's rounding of the same expression.
template <bool kFma, typename T>
inline __attribute__((always_inline)) T MulAdd(T a, T b, T c) {
  if constexpr (kFma) {
    return std::fma(a, b, c);
  } else {
    return a * b + c;
  }
}

template <typename T>
inline T Clip(T x, T lo, T hi) {
  const T m = (x < lo) ? lo : x;  // NaN stays NaN
  return (m > hi) ? hi : m;
}

// The stored weight: old + (new - old), as the pure-JAX loops store it (a scatter-add of
// the change), which can differ from `new` in the last bit (e.g. 1 ulp below w_min).
template <typename T>
inline T Store(T old, T updated) {
  return old + (updated - old);
}

template <typename T>
inline T Soft(T base, T mu) {
  if (mu == T(0)) return T(1);
  const T b = (base < T(0)) ? T(0) : base;
  return std::pow(b, mu);
}

template <typename T, bool kFma>
struct Pair {
  T a_plus, a_minus, w_min, w_max, mu_plus, mu_minus, range;
  explicit Pair(const T* p)
      : a_plus(p[0]), a_minus(p[1]), w_min(p[2]), w_max(p[3]), mu_plus(p[4]), mu_minus(p[5]),
        range(p[3] - p[2]) {}
  // x: presynaptic traces (stride n_pre) at i; y: postsynaptic traces (stride n_post) at j.
  T OnPre(T w, const T* x, const T* y, int64_t, int64_t) const {
    return (-a_minus * Soft((w - w_min) / range, mu_minus)) * y[0];
  }
  T OnPost(T w, const T* x, const T* y, int64_t, int64_t) const {
    return (a_plus * Soft(T(1) - (w - w_min) / range, mu_plus)) * x[0];
  }
};

template <typename T, bool kFma>
struct Triplet {
  T a2_plus, a3_plus, a2_minus, a3_minus, w_min, w_max;
  explicit Triplet(const T* p)
      : a2_plus(p[0]), a3_plus(p[1]), a2_minus(p[2]), a3_minus(p[3]), w_min(p[4]), w_max(p[5]) {}
  T OnPre(T, const T* x, const T* y, int64_t n_pre, int64_t) const {
    return (-y[0]) * MulAdd<kFma>(a3_minus, x[n_pre], a2_minus);
  }
  T OnPost(T, const T* x, const T* y, int64_t, int64_t n_post) const {
    return x[0] * MulAdd<kFma>(a3_plus, y[n_post], a2_plus);
  }
};

struct Csr {
  const int32_t* indptr;
  const int32_t* indices;
  int64_t len;  // length of w and indices (padding included)
  const int32_t* col_ptr;
  const int32_t* col_syn;
  const int32_t* col_pre;
  int64_t col_len;
  int64_t n_pre, n_post;
};

// Operands of one step. `out` (n_post) is null without delivery; with it, each spiking
// presynaptic neuron's row is delivered (out[j] += s * w[p], the old weight: exactly the
// summation of neurosim_csr_event) just before the row is depressed.
template <typename T>
struct Step {
  const T* params;
  T* w;
  const T* pre_tr;
  const T* post_tr;
  const T* s_pre;
  const T* s_post;
  T* out;
};

template <bool kFma, typename T, typename R>
inline __attribute__((always_inline)) void Update(const R& rule, const Csr& c, const Step<T>& a) {
  T* w = a.w;
  const T lo = rule.w_min, hi = rule.w_max;
  const uint32_t npost = static_cast<uint32_t>(c.n_post);
  if (a.out != nullptr) std::fill(a.out, a.out + c.n_post, T(0));
  auto row = [&](int64_t i) {
    const int64_t b0 = std::max<int64_t>(0, c.indptr[i]);
    const int64_t bytes = (std::min<int64_t>(c.len, c.indptr[i + 1]) - b0) * 4;
    PrefetchRange(c.indices + b0, bytes, false);
    PrefetchRange(w + b0, bytes * int64_t(sizeof(T)) / 4, true);
  };
  auto none = [](int64_t) {};
  ForEachNonZero(a.s_pre, c.n_pre, row, none, [&](int64_t i, T s) {
    const int64_t b0 = c.indptr[i] < 0 ? 0 : c.indptr[i];
    const int64_t b1 = c.indptr[i + 1] < c.len ? c.indptr[i + 1] : c.len;
    const T* x = a.pre_tr + i;
    for (int64_t p = b0; p < b1; ++p) {
      const uint32_t j = static_cast<uint32_t>(c.indices[p]);
      if (j >= npost) continue;
      if (a.out != nullptr) a.out[j] += s * w[p];
      const T d = rule.OnPre(w[p], x, a.post_tr + j, c.n_pre, c.n_post);
      w[p] = Store(w[p], Clip(MulAdd<kFma>(s, d, w[p]), lo, hi));
    }
  });
  const uint32_t npre = static_cast<uint32_t>(c.n_pre);
  const uint64_t len = static_cast<uint64_t>(c.len);
  auto col = [&](int64_t j) {
    const int64_t k0 = std::max<int64_t>(0, c.col_ptr[j]);
    const int64_t bytes = (std::min<int64_t>(c.col_len, c.col_ptr[j + 1]) - k0) * 4;
    PrefetchRange(c.col_syn + k0, bytes, false);
    PrefetchRange(c.col_pre + k0, bytes, false);
  };
  auto col_weights = [&](int64_t j) {  // a column's weights are scattered: all in flight
    const int64_t k0 = std::max<int64_t>(0, c.col_ptr[j]);
    const int64_t k1 = std::min<int64_t>(c.col_len, c.col_ptr[j + 1]);
    for (int64_t k = k0; k < k1; ++k) {
      const uint64_t p = static_cast<uint32_t>(c.col_syn[k]);
      if (p < len) __builtin_prefetch(w + p, 1, 3);
    }
  };
  ForEachNonZero(a.s_post, c.n_post, col, col_weights, [&](int64_t j, T s) {
    const int64_t k0 = c.col_ptr[j] < 0 ? 0 : c.col_ptr[j];
    const int64_t k1 = c.col_ptr[j + 1] < c.col_len ? c.col_ptr[j + 1] : c.col_len;
    const T* y = a.post_tr + j;
    for (int64_t k = k0; k < k1; ++k) {
      const uint64_t p = static_cast<uint32_t>(c.col_syn[k]);
      const uint32_t i = static_cast<uint32_t>(c.col_pre[k]);
      if (p >= len || i >= npre) continue;
      const T d = rule.OnPost(w[p], a.pre_tr + i, y, c.n_pre, c.n_post);
      w[p] = Store(w[p], Clip(MulAdd<kFma>(s, d, w[p]), lo, hi));
    }
  });
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define NS_FMA_TARGET __attribute__((target("fma")))
bool HostHasFma() { return __builtin_cpu_supports("fma"); }
#else
#define NS_FMA_TARGET
bool HostHasFma() { return true; }  // other 64-bit targets (aarch64) always have FMA
#endif

template <typename T, template <typename, bool> class R>
NS_FMA_TARGET void UpdateFma(const Csr& c, const Step<T>& a) {
  Update<true>(R<T, true>(a.params), c, a);
}

template <typename T, template <typename, bool> class R>
void UpdatePlain(const Csr& c, const Step<T>& a) {
  Update<false>(R<T, false>(a.params), c, a);
}

template <typename T, template <typename, bool> class R>
void Dispatch(const Csr& c, const Step<T>& a) {
  static const bool fma = HostHasFma();
  if (fma) {
    UpdateFma<T, R>(c, a);
  } else {
    UpdatePlain<T, R>(c, a);
  }
}

ffi::Error Fail(const std::string& msg) {
  return ffi::Error::InvalidArgument("neurosim STDP kernel: " + msg);
}

int64_t Len(const ffi::AnyBuffer& b) { return static_cast<int64_t>(b.element_count()); }

template <typename T>
ffi::Error Run(int32_t rule, ffi::AnyBuffer w, const Csr& c, ffi::AnyBuffer pre_tr,
               ffi::AnyBuffer post_tr, ffi::AnyBuffer s_pre, ffi::AnyBuffer s_post,
               ffi::AnyBuffer params, ffi::AnyBuffer* w_out, ffi::AnyBuffer* out) {
  const int64_t k = rule == 0 ? 1 : 2;
  if (Len(pre_tr) != k * c.n_pre || Len(post_tr) != k * c.n_post)
    return Fail("trace arrays must have shape (K, n_pre) and (K, n_post)");
  if (Len(params) != 6) return Fail("expected 6 parameters");
  Step<T> a;
  a.w = w_out->typed_data<T>();
  const T* wi = w.typed_data<T>();
  if (a.w != wi) std::memcpy(a.w, wi, sizeof(T) * c.len);  // only if XLA did not alias
  a.params = params.typed_data<T>();
  a.pre_tr = pre_tr.typed_data<T>();
  a.post_tr = post_tr.typed_data<T>();
  a.s_pre = s_pre.typed_data<T>();
  a.s_post = s_post.typed_data<T>();
  a.out = out != nullptr ? out->typed_data<T>() : nullptr;
  if (rule == 0) {
    Dispatch<T, Pair>(c, a);
  } else {
    Dispatch<T, Triplet>(c, a);
  }
  return ffi::Error::Success();
}

ffi::Error Common(ffi::AnyBuffer w, ffi::AnyBuffer indptr, ffi::AnyBuffer indices,
                  ffi::AnyBuffer col_ptr, ffi::AnyBuffer col_syn, ffi::AnyBuffer col_pre,
                  ffi::AnyBuffer pre_tr, ffi::AnyBuffer post_tr, ffi::AnyBuffer s_pre,
                  ffi::AnyBuffer s_post, ffi::AnyBuffer params, ffi::AnyBuffer* w_out,
                  ffi::AnyBuffer* out, int32_t rule) {
  if (rule != 0 && rule != 1) return Fail("unknown rule (0: pair, 1: triplet)");
  const auto dt = w.element_type();
  for (const auto* b : {&pre_tr, &post_tr, &s_pre, &s_post, &params})
    if (b->element_type() != dt) return Fail("float operands must share the dtype of w");
  if (w_out->element_type() != dt || (out != nullptr && out->element_type() != dt))
    return Fail("output dtypes differ from w");
  for (const auto* b : {&indptr, &indices, &col_ptr, &col_syn, &col_pre})
    if (b->element_type() != ffi::DataType::S32) return Fail("index arrays must be int32");
  Csr c;
  c.n_pre = Len(s_pre);
  c.n_post = Len(s_post);
  c.len = Len(w);
  if (Len(indptr) != c.n_pre + 1) return Fail("indptr must have n_pre + 1 entries");
  if (Len(col_ptr) != c.n_post + 1) return Fail("col_ptr must have n_post + 1 entries");
  if (Len(indices) != c.len) return Fail("indices and w differ in length");
  if (Len(col_syn) != Len(col_pre)) return Fail("col_syn and col_pre differ in length");
  if (Len(*w_out) != c.len) return Fail("updated weights differ in length from w");
  if (out != nullptr && Len(*out) != c.n_post) return Fail("delivered input must have n_post");
  c.indptr = indptr.typed_data<int32_t>();
  c.indices = indices.typed_data<int32_t>();
  c.col_ptr = col_ptr.typed_data<int32_t>();
  c.col_syn = col_syn.typed_data<int32_t>();
  c.col_pre = col_pre.typed_data<int32_t>();
  c.col_len = Len(col_syn);
  if (dt == ffi::DataType::F32)
    return Run<float>(rule, w, c, pre_tr, post_tr, s_pre, s_post, params, w_out, out);
  if (dt == ffi::DataType::F64)
    return Run<double>(rule, w, c, pre_tr, post_tr, s_pre, s_post, params, w_out, out);
  return Fail("only float32 and float64 are supported");
}

ffi::Error UpdateImpl(ffi::AnyBuffer w, ffi::AnyBuffer indptr, ffi::AnyBuffer indices,
                      ffi::AnyBuffer col_ptr, ffi::AnyBuffer col_syn, ffi::AnyBuffer col_pre,
                      ffi::AnyBuffer pre_tr, ffi::AnyBuffer post_tr, ffi::AnyBuffer s_pre,
                      ffi::AnyBuffer s_post, ffi::AnyBuffer params,
                      ffi::Result<ffi::AnyBuffer> w_out, int32_t rule) {
  return Common(w, indptr, indices, col_ptr, col_syn, col_pre, pre_tr, post_tr, s_pre, s_post,
                params, &*w_out, nullptr, rule);
}

ffi::Error DeliverUpdateImpl(ffi::AnyBuffer w, ffi::AnyBuffer indptr, ffi::AnyBuffer indices,
                             ffi::AnyBuffer col_ptr, ffi::AnyBuffer col_syn,
                             ffi::AnyBuffer col_pre, ffi::AnyBuffer pre_tr,
                             ffi::AnyBuffer post_tr, ffi::AnyBuffer s_pre, ffi::AnyBuffer s_post,
                             ffi::AnyBuffer params, ffi::Result<ffi::AnyBuffer> out,
                             ffi::Result<ffi::AnyBuffer> w_out, int32_t rule) {
  return Common(w, indptr, indices, col_ptr, col_syn, col_pre, pre_tr, post_tr, s_pre, s_post,
                params, &*w_out, &*out, rule);
}

}  // namespace

#define NS_STDP_ARGS                                                                  \
  ffi::Ffi::Bind()                                                                    \
      .Arg<ffi::AnyBuffer>() /* w (len,) */                                           \
      .Arg<ffi::AnyBuffer>() /* indptr (n_pre + 1,) */                                \
      .Arg<ffi::AnyBuffer>() /* indices (len,) */                                     \
      .Arg<ffi::AnyBuffer>() /* col_ptr (n_post + 1,) */                              \
      .Arg<ffi::AnyBuffer>() /* col_syn (m,) */                                       \
      .Arg<ffi::AnyBuffer>() /* col_pre (m,) */                                       \
      .Arg<ffi::AnyBuffer>() /* pre traces (K, n_pre) */                              \
      .Arg<ffi::AnyBuffer>() /* post traces (K, n_post) */                            \
      .Arg<ffi::AnyBuffer>() /* s_pre (n_pre,) */                                     \
      .Arg<ffi::AnyBuffer>() /* s_post (n_post,) */                                   \
      .Arg<ffi::AnyBuffer>() /* params (6,) */

XLA_FFI_DEFINE_HANDLER_SYMBOL(NeurosimStdpUpdate, UpdateImpl,
                              NS_STDP_ARGS.Ret<ffi::AnyBuffer>()  // w' (len,), aliases w
                                  .Attr<int32_t>("rule"));

XLA_FFI_DEFINE_HANDLER_SYMBOL(NeurosimStdpDeliverUpdate, DeliverUpdateImpl,
                              NS_STDP_ARGS.Ret<ffi::AnyBuffer>()  // delivered input (n_post,)
                                  .Ret<ffi::AnyBuffer>()          // w' (len,), aliases w
                                  .Attr<int32_t>("rule"));
