// Tsodyks–Markram short-term plasticity fused with CSR delivery, called through the XLA FFI.
//
//   neurosim_stp_deliver(s, u, x, elapsed, U, tau_rec, tau_facil, dt, indptr, indices, w)
//       -> (out (n_post), values (n_pre), u', x', elapsed')   (u', x', elapsed' alias inputs)
//
// The step of neurosim.plasticity.TsodyksMarkram.transmit (the pure-JAX reference), touching
// only the neurons that spiked:
//
//   every i:            elapsed[i] = min(elapsed[i] + 1, 2**30)
//   every i, s[i] != 0: gap = elapsed[i] * dt
//                       u = u[i] * (tau_facil > 0 ? exp(-gap / tau_facil) : 0)
//                       x = 1 + (x[i] - 1) * exp(-gap / tau_rec)
//                       u = u + s U (1 - u);  r = u x;  x = x - s r
//                       values[i] = s r;  u[i], x[i] = u, x;  elapsed[i] = 0
//                       out[j] += values[i] * w[p] over the row's synapses p (onto j)
//
// Spiking neurons are found and their rows prefetched as in spike_scan.h.
// Non-spiking neurons keep u, x (the values after their last spike) and get values 0, as in
// the reference. Delivery sums rows in ascending order like neurosim_csr_event. `U`,
// `tau_rec`, `tau_facil` have one entry (shared) or n_pre; `w` one (homogeneous) or len.
// `exp` is the C library's, which differs from XLA's by at most 1 ulp in about 10% of
// arguments (so u and x agree with the reference to a few ulp, not bit for bit); the
// products and sums round as XLA's do (fused multiply-adds where XLA contracts them).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

#include "spike_scan.h"
#include "xla/ffi/api/ffi.h"

namespace ffi = xla::ffi;

namespace {

constexpr int32_t kMaxElapsed = 1 << 30;  // as neurosim.plasticity._stp._MAX_ELAPSED

template <bool kFma, typename T>
inline __attribute__((always_inline)) T MulAdd(T a, T b, T c) {
  if constexpr (kFma) {
    return std::fma(a, b, c);
  } else {
    return a * b + c;
  }
}

template <typename T>
struct Args {
  int64_t n_pre, n_post, len;
  const T* s;
  T* u;
  T* x;
  int32_t* elapsed;
  const T *U, *tau_rec, *tau_facil;
  int64_t sU, sR, sF;  // strides: 0 (shared) or 1 (per neuron)
  T dt;
  const int32_t* indptr;
  const int32_t* indices;
  const T* w;
  bool homogeneous;
  T* out;
  T* values;
};

template <bool kFma, typename T>
inline __attribute__((always_inline)) void Step(const Args<T>& a) {
  std::fill(a.out, a.out + a.n_post, T(0));
  std::fill(a.values, a.values + a.n_pre, T(0));
  for (int64_t i = 0; i < a.n_pre; ++i)  // vectorised
    a.elapsed[i] = a.elapsed[i] < kMaxElapsed ? a.elapsed[i] + 1 : kMaxElapsed;
  const uint32_t npost = static_cast<uint32_t>(a.n_post);
  auto row = [&](int64_t i) {
    const int64_t b0 = std::max<int64_t>(0, a.indptr[i]);
    const int64_t bytes = (std::min<int64_t>(a.len, a.indptr[i + 1]) - b0) * 4;
    PrefetchRange(a.indices + b0, bytes, false);
    if (!a.homogeneous) PrefetchRange(a.w + b0, bytes * int64_t(sizeof(T)) / 4, false);
  };
  ForEachNonZero(a.s, a.n_pre, row, [](int64_t) {}, [&](int64_t i, T s) {
    const T gap = static_cast<T>(a.elapsed[i]) * a.dt;
    const T tf = a.tau_facil[i * a.sF];
    const T f_u = tf > T(0) ? std::exp(-gap / tf) : T(0);
    T u = a.u[i] * f_u;
    T x = MulAdd<kFma>(a.x[i] - T(1), std::exp(-gap / a.tau_rec[i * a.sR]), T(1));
    u = MulAdd<kFma>(s * a.U[i * a.sU], T(1) - u, u);
    const T r = u * x;
    x = MulAdd<kFma>(-s, r, x);
    const T v = s * r;
    a.values[i] = v;
    a.u[i] = u;
    a.x[i] = x;
    a.elapsed[i] = 0;
    const int64_t b0 = std::max<int64_t>(0, a.indptr[i]);
    const int64_t b1 = std::min<int64_t>(a.len, a.indptr[i + 1]);
    if (a.homogeneous) {
      const T c = a.w[0] * v;
      for (int64_t p = b0; p < b1; ++p) {
        const uint32_t t = static_cast<uint32_t>(a.indices[p]);
        if (t < npost) a.out[t] += c;
      }
    } else {
      for (int64_t p = b0; p < b1; ++p) {
        const uint32_t t = static_cast<uint32_t>(a.indices[p]);
        if (t < npost) a.out[t] += v * a.w[p];
      }
    }
  });
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
template <typename T>
__attribute__((target("avx2,fma"))) void StepFma(const Args<T>& a) {
  Step<true>(a);
}
bool HostHasFma() { return __builtin_cpu_supports("fma") && __builtin_cpu_supports("avx2"); }
#else
template <typename T>
void StepFma(const Args<T>& a) {
  Step<true>(a);
}
bool HostHasFma() { return true; }
#endif

template <typename T>
void StepPlain(const Args<T>& a) {
  Step<false>(a);
}

ffi::Error Fail(const std::string& msg) {
  return ffi::Error::InvalidArgument("neurosim STP kernel: " + msg);
}

int64_t Len(const ffi::AnyBuffer& b) { return static_cast<int64_t>(b.element_count()); }

template <typename T>
ffi::Error Run(ffi::AnyBuffer s, ffi::AnyBuffer u, ffi::AnyBuffer x, ffi::AnyBuffer elapsed,
               ffi::AnyBuffer U, ffi::AnyBuffer tau_rec, ffi::AnyBuffer tau_facil,
               ffi::AnyBuffer dt, ffi::AnyBuffer indptr, ffi::AnyBuffer indices,
               ffi::AnyBuffer w, ffi::AnyBuffer* out, ffi::AnyBuffer* values, ffi::AnyBuffer* u2,
               ffi::AnyBuffer* x2, ffi::AnyBuffer* e2) {
  Args<T> a;
  a.n_pre = Len(s);
  a.n_post = Len(*out);
  a.len = Len(indices);
  if (Len(u) != a.n_pre || Len(x) != a.n_pre || Len(elapsed) != a.n_pre ||
      Len(*values) != a.n_pre || Len(*u2) != a.n_pre || Len(*x2) != a.n_pre ||
      Len(*e2) != a.n_pre)
    return Fail("state arrays must have n_pre entries");
  if (Len(indptr) != a.n_pre + 1) return Fail("indptr must have n_pre + 1 entries");
  a.homogeneous = Len(w) == 1;
  if (!a.homogeneous && Len(w) != a.len) return Fail("weights and indices differ in length");
  if (Len(dt) != 1) return Fail("dt must be a scalar");
  const ffi::AnyBuffer* params[] = {&U, &tau_rec, &tau_facil};
  int64_t strides[3];
  for (int k = 0; k < 3; ++k) {
    const int64_t n = Len(*params[k]);
    if (n != 1 && n != a.n_pre) return Fail("U, tau_rec, tau_facil: one value or n_pre");
    strides[k] = n == 1 ? 0 : 1;
  }
  a.sU = strides[0];
  a.sR = strides[1];
  a.sF = strides[2];
  a.s = s.typed_data<T>();
  a.u = u2->typed_data<T>();
  a.x = x2->typed_data<T>();
  a.elapsed = e2->typed_data<int32_t>();
  // The results alias the state operands; copy only if XLA gave separate buffers.
  if (a.u != u.typed_data<T>()) std::memcpy(a.u, u.typed_data<T>(), sizeof(T) * a.n_pre);
  if (a.x != x.typed_data<T>()) std::memcpy(a.x, x.typed_data<T>(), sizeof(T) * a.n_pre);
  if (a.elapsed != elapsed.typed_data<int32_t>())
    std::memcpy(a.elapsed, elapsed.typed_data<int32_t>(), sizeof(int32_t) * a.n_pre);
  a.U = U.typed_data<T>();
  a.tau_rec = tau_rec.typed_data<T>();
  a.tau_facil = tau_facil.typed_data<T>();
  a.dt = dt.typed_data<T>()[0];
  a.indptr = indptr.typed_data<int32_t>();
  a.indices = indices.typed_data<int32_t>();
  a.w = w.typed_data<T>();
  a.out = out->typed_data<T>();
  a.values = values->typed_data<T>();
  static const bool fma = HostHasFma();
  if (fma) {
    StepFma<T>(a);
  } else {
    StepPlain<T>(a);
  }
  return ffi::Error::Success();
}

ffi::Error StpImpl(ffi::AnyBuffer s, ffi::AnyBuffer u, ffi::AnyBuffer x, ffi::AnyBuffer elapsed,
                   ffi::AnyBuffer U, ffi::AnyBuffer tau_rec, ffi::AnyBuffer tau_facil,
                   ffi::AnyBuffer dt, ffi::AnyBuffer indptr, ffi::AnyBuffer indices,
                   ffi::AnyBuffer w, ffi::Result<ffi::AnyBuffer> out,
                   ffi::Result<ffi::AnyBuffer> values, ffi::Result<ffi::AnyBuffer> u2,
                   ffi::Result<ffi::AnyBuffer> x2, ffi::Result<ffi::AnyBuffer> e2) {
  const auto t = s.element_type();
  for (const auto* b : {&u, &x, &U, &tau_rec, &tau_facil, &dt, &w})
    if (b->element_type() != t) return Fail("float operands must share one dtype");
  for (const auto* b : {&*out, &*values, &*u2, &*x2})
    if (b->element_type() != t) return Fail("float results must share the operands' dtype");
  if (elapsed.element_type() != ffi::DataType::S32 || e2->element_type() != ffi::DataType::S32 ||
      indptr.element_type() != ffi::DataType::S32 || indices.element_type() != ffi::DataType::S32)
    return Fail("elapsed and index arrays must be int32");
  if (t == ffi::DataType::F32)
    return Run<float>(s, u, x, elapsed, U, tau_rec, tau_facil, dt, indptr, indices, w, &*out,
                      &*values, &*u2, &*x2, &*e2);
  if (t == ffi::DataType::F64)
    return Run<double>(s, u, x, elapsed, U, tau_rec, tau_facil, dt, indptr, indices, w, &*out,
                       &*values, &*u2, &*x2, &*e2);
  return Fail("only float32 and float64 are supported");
}

}  // namespace

XLA_FFI_DEFINE_HANDLER_SYMBOL(NeurosimStpDeliver, StpImpl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::AnyBuffer>()  // spikes (n_pre,)
                                  .Arg<ffi::AnyBuffer>()  // u (n_pre,)
                                  .Arg<ffi::AnyBuffer>()  // x (n_pre,)
                                  .Arg<ffi::AnyBuffer>()  // elapsed (n_pre,) int32
                                  .Arg<ffi::AnyBuffer>()  // U (1 or n_pre)
                                  .Arg<ffi::AnyBuffer>()  // tau_rec (1 or n_pre), ms
                                  .Arg<ffi::AnyBuffer>()  // tau_facil (1 or n_pre), ms
                                  .Arg<ffi::AnyBuffer>()  // dt (1,), ms
                                  .Arg<ffi::AnyBuffer>()  // indptr (n_pre + 1,)
                                  .Arg<ffi::AnyBuffer>()  // indices (len,)
                                  .Arg<ffi::AnyBuffer>()  // weights (1 or len)
                                  .Ret<ffi::AnyBuffer>()  // delivered input (n_post,)
                                  .Ret<ffi::AnyBuffer>()  // values s u x (n_pre,)
                                  .Ret<ffi::AnyBuffer>()  // u' (aliases u)
                                  .Ret<ffi::AnyBuffer>()  // x' (aliases x)
                                  .Ret<ffi::AnyBuffer>());  // elapsed' (aliases elapsed)
