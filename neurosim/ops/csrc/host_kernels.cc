// Host-side helpers called with ctypes (not through XLA): decoding of the bit-packed spike
// rasters that neurosim.simulate streams from the device.
//
// Layout: `rows` rows of `nbytes` bytes; bit b (most significant first, numpy.packbits'
// big-endian order) of byte j of row r is neuron 8 j + b at step r. Output is sorted by
// (step, neuron), exactly as numpy.nonzero over the unpacked raster would give.

#include <cstdint>
#include <cstring>

extern "C" {

// Number of set bits in `len` bytes.
int64_t neurosim_count_bits(const uint8_t* p, int64_t len) {
  int64_t count = 0, i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    count += __builtin_popcountll(w);
  }
  for (; i < len; ++i) count += __builtin_popcount(p[i]);
  return count;
}

// Writes (step, neuron) of every set bit with neuron < n; returns how many were written
// (at most `cap`).
int64_t neurosim_unpack_bits(const uint8_t* packed, int64_t rows, int64_t nbytes, int64_t n,
                             int64_t* steps, int64_t* idx, int64_t cap) {
  int64_t k = 0;
  for (int64_t r = 0; r < rows; ++r) {
    const uint8_t* row = packed + r * nbytes;
    int64_t j = 0;
    while (j < nbytes) {
      if (j + 8 <= nbytes) {
        uint64_t w;
        std::memcpy(&w, row + j, 8);
        if (w == 0) {
          j += 8;
          continue;
        }
      }
      const int64_t stop = (j + 8 <= nbytes) ? j + 8 : nbytes;
      for (; j < stop; ++j) {
        unsigned v = row[j];
        while (v) {
          const int hi = 31 - __builtin_clz(v);  // most significant set bit first
          const int64_t neuron = j * 8 + (7 - hi);
          v &= ~(1u << hi);
          if (neuron < n) {
            if (k >= cap) return k;
            steps[k] = r;
            idx[k] = neuron;
            ++k;
          }
        }
      }
    }
  }
  return k;
}

}  // extern "C"
