// One whole step of an LIF population with exponential conductances, called from JAX through
// the XLA FFI (neurosim/network/_fused.py): membrane update, threshold, reset, refractory
// counter, spike delivery through the population's own CSR projections and receptor decay,
// in one call, so the state is read and written once per step instead of once per XLA fusion.
//
//   neurosim_lif_step(v, ref, tau_m, e_l, g_l, i_e, v_th, v_reset, restart, dt,
//                     g_0..g_{R-1}, a_0..a_{R-1}, e_0..e_{R-1},
//                     (indptr_p, indices_p, weights_p) for p < P)
//     -> (v', ref', spikes, g'_0..g'_{R-1}, nonfinite)   attributes proj_lo, proj_hi, proj_rec
//
// v', ref' and g'_r alias v, ref and g_r (updated in place when XLA can donate them). The
// arithmetic is the pure-JAX step's (neurosim.network._step with an LIF neuron, Euler
// integrator, Exponential kinetics and COBA outputs), operation for operation, so the result
// is bitwise the same (the build uses -ffp-contract=off: each product is rounded before the
// sum, as XLA does on CPU):
//
//   G = g_0 + g_1 + ...,  I = g_0 e_0 + g_1 e_1 + ...          (receptor order)
//   f = ((e_l - v) + ((I - G v) + i_e) / g_l) / tau_m
//   v_new = held ? v : v + dt f                                 held = ref > 0
//   spike = !held && (v_new - v_th >= 0)
//   v' = spike ? v_reset : v_new;  ref' = spike ? restart : max(ref - 1, 0)
//   g'_r = g_r a_r + (S_p + S_q + ...)     over the projections p, q, ... onto receptor r
//
// S_p = spikes[lo_p:hi_p] @ W_p, summed per target from 0 in presynaptic order (rows
// ascending, each in CSR order), as the event kernel does; a receptor without projections
// only decays (g a). `nonfinite` (int32) is 1 if any of v', g'_r is NaN or +-inf (the fault
// check of the JAX step, done in the same passes). `a_r` and `e_r` are scalars; `restart` (int32, one per neuron) is the
// counter a spike restarts (computed by the caller with the JAX step's expression). Targets
// outside [0, n) and synapses beyond the index / weight arrays are skipped.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "spike_scan.h"
#include "xla/ffi/api/ffi.h"

namespace ffi = xla::ffi;

namespace {

constexpr int kMaxRec = 4;

template <typename T>
struct Neurons {
  const T *v, *tau_m, *e_l, *g_l, *i_e, *v_th, *v_reset;
  const int32_t *ref, *restart;
  T dt;
  const T* g[kMaxRec];
  T e[kMaxRec];
  T *v_out, *s_out;
  int32_t* ref_out;
};

// 1 if any of x[0..n) is NaN or +-inf (all exponent bits set): integer tests, vectorised.
template <typename T>
NS_CLONES int32_t NonFinite(const T* x, int64_t n) {
  using B = typename Bits<T>::type;
  constexpr B kExp = sizeof(T) == 4 ? B(0x7f800000u) : B(0x7ff0000000000000ull);
  B acc = 0;
  for (int64_t j = 0; j < n; ++j) {
    B b;
    std::memcpy(&b, x + j, sizeof(B));
    acc |= static_cast<B>((b & kExp) == kExp);
  }
  return acc != 0;
}

// The outputs alias the inputs element for element (read j, then write j): no dependence
// between iterations, which ivdep tells the vectoriser (it would otherwise give up on run-time
// alias checks of this many arrays). After each block, its spikes (still in L1) are appended
// to ids, ascending, so the delivery needs no scan of the spike vector.
constexpr int64_t kBlock = 256;

template <typename T, int R>
NS_CLONES int64_t MembraneStep(const Neurons<T>& p, int64_t n, int64_t* ids, int32_t* bad) {
  // Locals, not p's fields: the stores below could alias p itself for all the compiler knows.
  const T *pv = p.v, *pel = p.e_l, *pgl = p.g_l, *ptau = p.tau_m, *pie = p.i_e;
  const T *pth = p.v_th, *preset = p.v_reset;
  const int32_t *pref = p.ref, *prestart = p.restart;
  T *vo = p.v_out, *so = p.s_out;
  int32_t* ro = p.ref_out;
  const T dt = p.dt;
  const T* g[R];
  T e[R];
  for (int k = 0; k < R; ++k) g[k] = p.g[k], e[k] = p.e[k];
  int64_t m_ids = 0;
  int32_t nonfinite = 0;
  for (int64_t j0 = 0; j0 < n; j0 += kBlock) {
    const int64_t j1 = std::min(kBlock + j0, n);
#pragma GCC ivdep
    for (int64_t j = j0; j < j1; ++j) {  // every load unconditional: no control flow
      const T v = pv[j], e_l = pel[j], g_l = pgl[j], tau_m = ptau[j];
      const T i_e = pie[j], v_th = pth[j], v_reset = preset[j];
      const int32_t r = pref[j], restart = prestart[j];
      T cond = g[0][j];
      T cur = cond * e[0];
      for (int k = 1; k < R; ++k) {
        const T gk = g[k][j];
        cond = cond + gk;
        cur = cur + gk * e[k];
      }
      const T i_total = (cur - cond * v) + i_e;
      const T f = ((e_l - v) + i_total / g_l) / tau_m;
      const T v_int = v + dt * f;
      const bool free = r <= 0;
      const T v_new = free ? v_int : v;
      const bool spike = free & (v_new - v_th >= T(0));
      const int32_t r_dec = r - 1 > 0 ? r - 1 : 0;
      vo[j] = spike ? v_reset : v_new;
      ro[j] = spike ? restart : r_dec;
      so[j] = spike ? T(1) : T(0);
    }
    nonfinite |= NonFinite(vo + j0, j1 - j0);  // the block is still in L1
    const int64_t got = NonZeroIds(so + j0, j1 - j0, ids + m_ids);
    for (int64_t k = m_ids; k < m_ids + got; ++k) ids[k] += j0;
    m_ids += got;
  }
  *bad |= nonfinite;
  return m_ids;
}

// g a (no projection onto the receptor), g a + 0 (none of them spiked: the JAX step adds
// their all-zero sums, which turns -0 into +0) or g a + sum.
// The sum is cleared as it is read (scratch stays zero between calls).
template <typename T>
NS_CLONES void Decay(const T* g, T a, bool add, T* sum, int64_t n, T* out, int32_t* bad) {
  if (!add) {
#pragma GCC ivdep
    for (int64_t j = 0; j < n; ++j) {
      out[j] = g[j] * a;
    }
  } else if (sum == nullptr) {
#pragma GCC ivdep
    for (int64_t j = 0; j < n; ++j) {
      out[j] = g[j] * a + T(0);
    }
  } else {
#pragma GCC ivdep
    for (int64_t j = 0; j < n; ++j) {
      out[j] = g[j] * a + sum[j];
      sum[j] = T(0);
    }
  }
  *bad |= NonFinite(out, n);
}

template <typename T>
NS_CLONES void AddInto(T* acc, const T* x, int64_t n) {
  for (int64_t j = 0; j < n; ++j) acc[j] = acc[j] + x[j];
}

struct Csr {
  const int32_t *indptr, *indices;
  int64_t len, lo, hi, rec;
  bool homogeneous;
};

// Adds spikes[lo:hi] @ W into sum (zero on entry); ids: the spiking neurons, ascending.
// Returns whether any of them lies in [lo, hi). Synapse lists are prefetched kLists rows and
// their targets kTargets rows ahead of the delivery (memory-latency bound at scale).
template <typename T>
bool Scatter(const Csr& c, const int64_t* ids, int64_t m, const T* spikes, const T* w, int64_t n,
             T* sum) {
  const int64_t* first = std::lower_bound(ids, ids + m, c.lo);
  const int64_t* last = std::lower_bound(first, ids + m, c.hi);
  const int64_t count = last - first;
  const uint32_t npost = static_cast<uint32_t>(n);
  auto range = [&](int64_t i, int64_t* b0, int64_t* b1) {
    *b0 = std::max<int64_t>(0, c.indptr[i]);
    *b1 = std::min<int64_t>(c.len, c.indptr[i + 1]);
  };
  auto prefetch = [&](int64_t i) {
    int64_t b0, b1;
    range(i, &b0, &b1);
    PrefetchRange(c.indices + b0, (b1 - b0) * 4, false);
    if (!c.homogeneous) PrefetchRange(w + b0, (b1 - b0) * int64_t(sizeof(T)), false);
  };
  auto near = [&](int64_t i) {
    int64_t b0, b1;
    range(i, &b0, &b1);
    for (int64_t q = b0; q < b1; ++q) {
      const uint32_t t = static_cast<uint32_t>(c.indices[q]);
      if (t < npost) __builtin_prefetch(sum + t, 1, 3);
    }
  };
  constexpr int64_t kLists = 8, kTargets = 4;  // rows ahead (as the event kernel's pipeline)
  for (int64_t k = 0; k < std::min<int64_t>(count, kLists); ++k) prefetch(first[k] - c.lo);
  for (int64_t k = 0; k < std::min<int64_t>(count, kTargets); ++k) near(first[k] - c.lo);
  for (int64_t k = 0; k < count; ++k) {
    if (k + kLists < count) prefetch(first[k + kLists] - c.lo);
    if (k + kTargets < count) near(first[k + kTargets] - c.lo);
    const int64_t i = first[k] - c.lo;
    const T s = spikes[first[k]];
    int64_t b0, b1;
    range(i, &b0, &b1);
    if (c.homogeneous) {
      const T v = w[0] * s;
      for (int64_t q = b0; q < b1; ++q) {
        const uint32_t t = static_cast<uint32_t>(c.indices[q]);
        if (t < npost) sum[t] += v;
      }
    } else {
      for (int64_t q = b0; q < b1; ++q) {
        const uint32_t t = static_cast<uint32_t>(c.indices[q]);
        if (t < npost) sum[t] += s * w[q];
      }
    }
  }
  return count > 0;
}

ffi::Error Fail(const std::string& msg) {
  return ffi::Error::InvalidArgument("neurosim lif kernel: " + msg);
}

int64_t Len(const ffi::AnyBuffer& b) { return static_cast<int64_t>(b.element_count()); }

template <typename T>
ffi::Error Run(ffi::AnyBuffer* fixed, ffi::RemainingArgs& rest, ffi::RemainingRets& rets,
               int64_t n_rec, const std::vector<Csr>& projs) {
  const int64_t n = Len(fixed[0]);
  Neurons<T> p;
  p.v = fixed[0].typed_data<T>();
  p.ref = fixed[1].typed_data<int32_t>();
  p.tau_m = fixed[2].typed_data<T>();
  p.e_l = fixed[3].typed_data<T>();
  p.g_l = fixed[4].typed_data<T>();
  p.i_e = fixed[5].typed_data<T>();
  p.v_th = fixed[6].typed_data<T>();
  p.v_reset = fixed[7].typed_data<T>();
  p.restart = fixed[8].typed_data<int32_t>();
  p.dt = *fixed[9].typed_data<T>();
  void* out[3 + kMaxRec];
  for (int64_t k = 0; k < 3 + n_rec; ++k) out[k] = (*rets.get<ffi::AnyBuffer>(k))->untyped_data();
  int32_t* bad = (*rets.get<ffi::AnyBuffer>(3 + n_rec))->typed_data<int32_t>();
  *bad = 0;
  T a[kMaxRec];
  T* g_out[kMaxRec];
  for (int64_t k = 0; k < n_rec; ++k) {
    p.g[k] = rest.get<ffi::AnyBuffer>(k)->typed_data<T>();
    a[k] = *rest.get<ffi::AnyBuffer>(n_rec + k)->typed_data<T>();
    p.e[k] = *rest.get<ffi::AnyBuffer>(2 * n_rec + k)->typed_data<T>();
    g_out[k] = static_cast<T*>(out[3 + k]);
  }
  p.v_out = static_cast<T*>(out[0]);
  p.ref_out = static_cast<int32_t*>(out[1]);
  p.s_out = static_cast<T*>(out[2]);
  thread_local std::vector<int64_t> ids;
  if (static_cast<int64_t>(ids.size()) < n) ids.resize(n);
  int64_t m = 0;
  switch (n_rec) {
    case 1: m = MembraneStep<T, 1>(p, n, ids.data(), bad); break;
    case 2: m = MembraneStep<T, 2>(p, n, ids.data(), bad); break;
    case 3: m = MembraneStep<T, 3>(p, n, ids.data(), bad); break;
    default: m = MembraneStep<T, 4>(p, n, ids.data(), bad); break;
  }
  // Per-projection sums (kept zero between calls), combined in projection order.
  thread_local std::vector<T> scratch;
  const int64_t np = static_cast<int64_t>(projs.size());
  if (static_cast<int64_t>(scratch.size()) < (np + 1) * n) scratch.assign((np + 1) * n, T(0));
  std::vector<bool> any(np);
  for (int64_t q = 0; q < np; ++q) {
    const T* w = rest.get<ffi::AnyBuffer>(3 * n_rec + 3 * q + 2)->typed_data<T>();
    any[q] = Scatter<T>(projs[q], ids.data(), m, p.s_out, w, n, scratch.data() + q * n);
  }
  T* acc = scratch.data() + np * n;
  for (int64_t k = 0; k < n_rec; ++k) {
    T* sum = nullptr;  // S_p, or S_p + S_q + ... in acc
    int64_t first = -1;
    for (int64_t q = 0; q < np; ++q) {
      if (projs[q].rec != k) continue;
      T* sq = scratch.data() + q * n;
      if (first < 0) {
        first = q;
        sum = sq;
      } else {
        if (sum != acc) std::memcpy(acc, sum, sizeof(T) * n);
        AddInto<T>(acc, sq, n);
        sum = acc;
      }
    }
    bool touched = false;
    for (int64_t q = 0; q < np; ++q) touched = touched || (projs[q].rec == k && any[q]);
    Decay<T>(p.g[k], a[k], first >= 0, touched ? sum : nullptr, n, g_out[k], bad);
    for (int64_t q = 0; q < np; ++q) {  // Decay cleared `sum` if it read it
      T* sq = scratch.data() + q * n;
      if (projs[q].rec == k && any[q] && (sq != sum || !touched)) std::fill(sq, sq + n, T(0));
    }
    if (sum == acc && !touched) std::fill(acc, acc + n, T(0));
  }
  return ffi::Error::Success();
}

ffi::Error Impl(ffi::AnyBuffer v, ffi::AnyBuffer ref, ffi::AnyBuffer tau_m, ffi::AnyBuffer e_l,
                ffi::AnyBuffer g_l, ffi::AnyBuffer i_e, ffi::AnyBuffer v_th,
                ffi::AnyBuffer v_reset, ffi::AnyBuffer restart, ffi::AnyBuffer dt,
                ffi::RemainingArgs rest, ffi::RemainingRets rets,
                ffi::Span<const int64_t> proj_lo, ffi::Span<const int64_t> proj_hi,
                ffi::Span<const int64_t> proj_rec) {
  ffi::AnyBuffer fixed[10] = {v, ref, tau_m, e_l, g_l, i_e, v_th, v_reset, restart, dt};
  const auto t = v.element_type();
  if (t != ffi::DataType::F32 && t != ffi::DataType::F64)
    return Fail("only float32 and float64 are supported");
  const int64_t n = Len(v);
  for (int k : {2, 3, 4, 5, 6, 7})
    if (fixed[k].element_type() != t || Len(fixed[k]) != n)
      return Fail("neuron parameters must be (n,) arrays of v's dtype");
  if (ref.element_type() != ffi::DataType::S32 || Len(ref) != n ||
      restart.element_type() != ffi::DataType::S32 || Len(restart) != n)
    return Fail("ref and restart must be (n,) int32");
  if (dt.element_type() != t || Len(dt) != 1) return Fail("dt must be a scalar of v's dtype");
  const int64_t np = static_cast<int64_t>(proj_lo.size());
  if (static_cast<int64_t>(proj_hi.size()) != np || static_cast<int64_t>(proj_rec.size()) != np)
    return Fail("proj_lo, proj_hi and proj_rec differ in length");
  const int64_t n_args = static_cast<int64_t>(rest.size());
  if ((n_args - 3 * np) % 3 != 0) return Fail("unexpected number of operands");
  const int64_t n_rec = (n_args - 3 * np) / 3;
  if (n_rec < 1 || n_rec > kMaxRec) return Fail("1 to 4 receptors are supported");
  if (static_cast<int64_t>(rets.size()) != 4 + n_rec) return Fail("unexpected number of outputs");
  {
    auto flag = rets.get<ffi::AnyBuffer>(3 + n_rec);
    if (!flag.has_value() || (*flag)->element_type() != ffi::DataType::S32 || Len(**flag) != 1)
      return Fail("the last output must be an int32 scalar");
  }
  for (int64_t k = 0; k < 3 * n_rec; ++k) {
    auto b = rest.get<ffi::AnyBuffer>(k);
    if (!b.has_value() || b->element_type() != t) return Fail("receptor operands: v's dtype");
    if (Len(*b) != (k < n_rec ? n : 1)) return Fail("g must be (n,), decay and e_rev scalars");
  }
  for (int64_t k = 0; k < 3 + n_rec; ++k) {
    auto r = rets.get<ffi::AnyBuffer>(k);
    const auto want = k == 1 ? ffi::DataType::S32 : t;
    if (!r.has_value() || (*r)->element_type() != want || Len(**r) != n)
      return Fail("outputs must be (n,) arrays");
  }
  std::vector<Csr> projs(np);
  for (int64_t q = 0; q < np; ++q) {
    auto ip = rest.get<ffi::AnyBuffer>(3 * n_rec + 3 * q);
    auto ix = rest.get<ffi::AnyBuffer>(3 * n_rec + 3 * q + 1);
    auto w = rest.get<ffi::AnyBuffer>(3 * n_rec + 3 * q + 2);
    if (!ip.has_value() || !ix.has_value() || !w.has_value()) return Fail("missing CSR operand");
    if (ip->element_type() != ffi::DataType::S32 || ix->element_type() != ffi::DataType::S32)
      return Fail("CSR index arrays must be int32");
    if (w->element_type() != t) return Fail("weights must have v's dtype");
    Csr& c = projs[q];
    c.lo = proj_lo[q];
    c.hi = proj_hi[q];
    c.rec = proj_rec[q];
    if (c.lo < 0 || c.hi > n || c.lo > c.hi) return Fail("projection slice out of range");
    if (c.rec < 0 || c.rec >= n_rec) return Fail("projection receptor out of range");
    if (Len(*ip) != c.hi - c.lo + 1) return Fail("indptr must have n_pre + 1 entries");
    c.indptr = ip->typed_data<int32_t>();
    c.indices = ix->typed_data<int32_t>();
    c.homogeneous = w->dimensions().size() == 0;
    c.len = c.homogeneous ? Len(*ix) : std::min(Len(*ix), Len(*w));
  }
  if (t == ffi::DataType::F32) return Run<float>(fixed, rest, rets, n_rec, projs);
  return Run<double>(fixed, rest, rets, n_rec, projs);
}

}  // namespace

XLA_FFI_DEFINE_HANDLER_SYMBOL(NeurosimLifStep, Impl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::AnyBuffer>()  // v (n,)
                                  .Arg<ffi::AnyBuffer>()  // ref (n,) int32
                                  .Arg<ffi::AnyBuffer>()  // tau_m
                                  .Arg<ffi::AnyBuffer>()  // e_l
                                  .Arg<ffi::AnyBuffer>()  // g_l
                                  .Arg<ffi::AnyBuffer>()  // i_e
                                  .Arg<ffi::AnyBuffer>()  // v_th
                                  .Arg<ffi::AnyBuffer>()  // v_reset
                                  .Arg<ffi::AnyBuffer>()  // restart (n,) int32
                                  .Arg<ffi::AnyBuffer>()  // dt ()
                                  .RemainingArgs()        // g_r, a_r, e_r, CSR triples
                                  .RemainingRets()        // v', ref', spikes, g'_r, flag
                                  .Attr<ffi::Span<const int64_t>>("proj_lo")
                                  .Attr<ffi::Span<const int64_t>>("proj_hi")
                                  .Attr<ffi::Span<const int64_t>>("proj_rec"));
