// Per-synapse delayed delivery on CSR storage into a ring of future input, called from JAX
// through the XLA FFI (neurosim/network/_delays.py).
//
//   neurosim_csr_delay(ring, spikes, indptr, indices, weights, steps, step) -> (ring', now)
//
// ring' aliases ring (updated in place when XLA can donate the buffer). For every
// presynaptic neuron i with spikes[i] != 0 (ascending), for every synapse p of its CSR row
// (indptr[i] .. indptr[i+1]) onto j = indices[p]:
//
//   ring[((step + steps[p]) mod D) * n_post + j] += w[p] * spikes[i]
//
// then `now` = ring[step mod D] (this step's arriving input) and that slot is cleared (+0),
// what deliver_delayed does after the delivery: one pass, so XLA needs no copy of the ring
// to read the slot and clear it around an in-place update. ring is (D, n_post) row-major;
// `steps` (int32, one per synapse) are the delay steps already rounded and clipped by the
// caller with the XLA path's own expression
// (`_clipped_steps` in _delays.py), so the slot arithmetic is the XLA path's: step + steps
// wraps in int32 and `mod` is the floor modulo of jnp's `%`. `weights` is a scalar
// (homogeneous) or one per synapse; spikes and weights share the ring's dtype. The values
// are added in the XLA path's order (spiking rows ascending, each row in CSR order), each
// product rounded before the sum (the build uses -ffp-contract=off). Synapses beyond the
// length of `indices`, `steps` or `weights`, and targets outside [0, n_post), are skipped.
// Batching: vmap_method="sequential" on the JAX side (one call per batch entry).

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

#include "spike_scan.h"
#include "xla/ffi/api/ffi.h"

namespace ffi = xla::ffi;

namespace {

struct Rows {
  const int32_t* indptr;
  const int32_t* indices;
  const int32_t* steps;
  int64_t len;  // synapses addressable in indices, steps (and weights if per synapse)
  int64_t n_pre, n_post, n_slots;
};

// floor((step + d) mod D) with the int32 wrap-around of XLA's s32 add.
inline int64_t Slot(int32_t step, int32_t d, int64_t n_slots) {
  const int32_t s =
      static_cast<int32_t>(static_cast<uint32_t>(step) + static_cast<uint32_t>(d));
  int64_t r = static_cast<int64_t>(s) % n_slots;
  return r < 0 ? r + n_slots : r;
}

template <typename T, bool kHomogeneous>
void Deliver(const Rows& c, const T* spikes, const T* w, int32_t step, T* ring) {
  const uint32_t npost = static_cast<uint32_t>(c.n_post);
  auto prefetch = [&](int64_t i) {
    const int64_t b0 = std::max<int64_t>(0, c.indptr[i]);
    const int64_t bytes = (std::min<int64_t>(c.len, c.indptr[i + 1]) - b0) * 4;
    PrefetchRange(c.indices + b0, bytes, false);
    PrefetchRange(c.steps + b0, bytes, false);
    if (!kHomogeneous) PrefetchRange(w + b0, bytes * int64_t(sizeof(T)) / 4, false);
  };
  auto none = [](int64_t) {};
  const T w0 = kHomogeneous ? w[0] : T(0);
  ForEachNonZero(spikes, c.n_pre, prefetch, none, [&](int64_t i, T s) {
    const int64_t b0 = std::max<int64_t>(0, c.indptr[i]);
    const int64_t b1 = std::min<int64_t>(c.len, c.indptr[i + 1]);
    for (int64_t p = b0; p < b1; ++p) {
      const uint32_t j = static_cast<uint32_t>(c.indices[p]);
      if (j >= npost) continue;
      const T v = (kHomogeneous ? w0 : w[p]) * s;
      ring[Slot(step, c.steps[p], c.n_slots) * c.n_post + j] += v;
    }
  });
}

ffi::Error Fail(const std::string& msg) {
  return ffi::Error::InvalidArgument("neurosim delay kernel: " + msg);
}

int64_t Len(const ffi::AnyBuffer& b) { return static_cast<int64_t>(b.element_count()); }

template <typename T>
ffi::Error Run(const Rows& c, ffi::AnyBuffer ring, ffi::AnyBuffer spikes, ffi::AnyBuffer weights,
               int32_t step, ffi::AnyBuffer* out, ffi::AnyBuffer* now) {
  T* r = out->typed_data<T>();
  const T* ri = ring.typed_data<T>();
  if (r != ri) std::memcpy(r, ri, sizeof(T) * c.n_slots * c.n_post);  // XLA did not alias
  const T* s = spikes.typed_data<T>();
  const T* w = weights.typed_data<T>();
  if (Len(weights) == 1 && weights.dimensions().size() == 0) {
    Deliver<T, true>(c, s, w, step, r);
  } else {
    Rows d = c;
    d.len = std::min<int64_t>(c.len, Len(weights));
    Deliver<T, false>(d, s, w, step, r);
  }
  T* slot = r + Slot(step, 0, c.n_slots) * c.n_post;
  std::memcpy(now->typed_data<T>(), slot, sizeof(T) * c.n_post);
  std::fill(slot, slot + c.n_post, T(0));
  return ffi::Error::Success();
}

ffi::Error Impl(ffi::AnyBuffer ring, ffi::AnyBuffer spikes, ffi::AnyBuffer indptr,
                ffi::AnyBuffer indices, ffi::AnyBuffer weights, ffi::AnyBuffer steps,
                ffi::AnyBuffer step, ffi::Result<ffi::AnyBuffer> out,
                ffi::Result<ffi::AnyBuffer> now) {
  const auto dt = ring.element_type();
  if (spikes.element_type() != dt || weights.element_type() != dt || out->element_type() != dt)
    return Fail("ring, spikes, weights and the output must share one dtype");
  for (const auto* b : {&indptr, &indices, &steps, &step})
    if (b->element_type() != ffi::DataType::S32) return Fail("index arrays must be int32");
  const auto dims = ring.dimensions();
  if (dims.size() != 2) return Fail("ring must have shape (D, n_post)");
  if (Len(*out) != Len(ring)) return Fail("output and ring differ in size");
  if (now->element_type() != dt || Len(*now) != dims[1]) return Fail("now must be (n_post,)");
  if (Len(step) != 1) return Fail("step must be a scalar");
  Rows c;
  c.n_slots = dims[0];
  c.n_post = dims[1];
  c.n_pre = Len(spikes);
  if (Len(indptr) != c.n_pre + 1) return Fail("indptr must have n_pre + 1 entries");
  if (weights.dimensions().size() > 1) return Fail("weights must be a scalar or 1-D");
  if (c.n_slots < 1) return Fail("the ring needs at least one slot");
  c.indptr = indptr.typed_data<int32_t>();
  c.indices = indices.typed_data<int32_t>();
  c.steps = steps.typed_data<int32_t>();
  c.len = std::min(Len(indices), Len(steps));
  const int32_t s = *step.typed_data<int32_t>();
  if (dt == ffi::DataType::F32) return Run<float>(c, ring, spikes, weights, s, &*out, &*now);
  if (dt == ffi::DataType::F64) return Run<double>(c, ring, spikes, weights, s, &*out, &*now);
  return Fail("only float32 and float64 are supported");
}

}  // namespace

XLA_FFI_DEFINE_HANDLER_SYMBOL(NeurosimCsrDelay, Impl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::AnyBuffer>()   // ring (D, n_post)
                                  .Arg<ffi::AnyBuffer>()   // spikes (n_pre,)
                                  .Arg<ffi::AnyBuffer>()   // indptr (n_pre + 1,) int32
                                  .Arg<ffi::AnyBuffer>()   // indices (L,) int32
                                  .Arg<ffi::AnyBuffer>()   // weights () or (L,)
                                  .Arg<ffi::AnyBuffer>()   // steps (>= nnz,) int32, clipped
                                  .Arg<ffi::AnyBuffer>()   // step () int32
                                  .Ret<ffi::AnyBuffer>()    // ring' (D, n_post), aliases ring
                                  .Ret<ffi::AnyBuffer>());  // now (n_post,), slot cleared
