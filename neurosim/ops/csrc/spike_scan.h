// Scanning spike vectors for their non-zero entries: shared by neurosim's compiled kernels.
//
// Spike vectors are mostly zero: NonZeroIds skips empty 64-blocks with one vector test each;
// ForEachNonZero visits the spiking neurons in ascending order and calls prefetch(i) a few
// neurons ahead, so the memory a neuron's work touches (its synapse list) is in flight
// before the work starts (delivery and plasticity are memory-latency bound).

#ifndef NEUROSIM_SPIKE_SCAN_H_
#define NEUROSIM_SPIKE_SCAN_H_

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

namespace {  // internal linkage: each kernel file gets its own copy

template <typename T>
struct Bits;
template <>
struct Bits<float> {
  using type = uint32_t;
};
template <>
struct Bits<double> {
  using type = uint64_t;
};

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && defined(__linux__)
// One binary for every x86-64 CPU: the loader picks the widest vector ISA available.
#define NS_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define NS_CLONES
#endif

// True if any of s[0..kLen) is non-zero (NaN counts as non-zero, -0.0 as zero), as an
// integer bit test the compiler vectorises.
template <typename T, int kLen>
inline __attribute__((always_inline)) bool AnyNonZero(const T* s) {
  using B = typename Bits<T>::type;
  B acc = 0;
  for (int j = 0; j < kLen; ++j) {
    B b;
    std::memcpy(&b, s + j, sizeof(B));
    acc |= static_cast<B>(b << 1);
  }
  return acc != 0;
}

// Writes the indices i with s[i] != 0 to ids (ascending) and returns their number. Spike
// vectors are mostly zero: empty 64-blocks are skipped with one vector test each.
template <typename T>
NS_CLONES int64_t NonZeroIds(const T* s, int64_t n, int64_t* ids) {
  int64_t m = 0, i0 = 0;
  for (; i0 + 64 <= n; i0 += 64) {
    if (!AnyNonZero<T, 64>(s + i0)) continue;
    for (int64_t i = i0; i < i0 + 64; ++i)
      if (s[i] != T(0)) ids[m++] = i;
  }
  for (int64_t i = i0; i < n; ++i)
    if (s[i] != T(0)) ids[m++] = i;
  return m;
}

constexpr int kAhead = 4;                 // neurons whose memory is prefetched ahead
constexpr int64_t kMaxPrefetchBytes = 1024;  // hardware prefetch takes over on long lists

inline __attribute__((always_inline)) void PrefetchRange(const void* p, int64_t bytes,
                                                         bool write) {
  const char* c = static_cast<const char*>(p);
  bytes = std::min(bytes, kMaxPrefetchBytes);
  for (int64_t off = 0; off < bytes; off += 64) {
    if (write) {
      __builtin_prefetch(c + off, 1, 3);
    } else {
      __builtin_prefetch(c + off, 0, 3);
    }
  }
}

// Calls f(i, s[i]) for every i with s[i] != 0, ascending; prefetch(i) kAhead neurons ahead
// and near(i) one neuron ahead (for memory found through what prefetch brought in).
template <typename T, typename P, typename Q, typename F>
inline __attribute__((always_inline)) void ForEachNonZero(const T* s, int64_t n, P&& prefetch,
                                                          Q&& near, F&& f) {
  thread_local std::vector<int64_t> ids;
  if (static_cast<int64_t>(ids.size()) < n) ids.resize(n);
  const int64_t m = NonZeroIds(s, n, ids.data());
  for (int64_t k = 0; k < std::min<int64_t>(m, kAhead); ++k) prefetch(ids[k]);
  if (m > 0) near(ids[0]);
  for (int64_t k = 0; k < m; ++k) {
    if (k + kAhead < m) prefetch(ids[k + kAhead]);
    if (k + 1 < m) near(ids[k + 1]);
    f(ids[k], s[ids[k]]);
  }
}

}  // namespace

#endif  // NEUROSIM_SPIKE_SCAN_H_
