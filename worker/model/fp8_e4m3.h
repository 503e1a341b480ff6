// fp8 e4m3 (OCP "fn": no infinities, 0x7f/0xff are NaN, max 448), round to
// nearest even. Host and device share this one definition so the GPU's fp8 KV
// cache holds the very bytes the CPU reference's does.
#pragma once

#include <cstdint>
#include <math.h>

#if defined(__CUDACC__) || defined(__HIPCC__)
#define GAUNTLET_HOST_DEVICE __host__ __device__
#else
#define GAUNTLET_HOST_DEVICE
#endif

namespace gauntlet::worker {

inline constexpr float kF8E4M3Max = 448.0f;

GAUNTLET_HOST_DEVICE inline uint8_t F32ToF8E4M3(float value) {
  if (value != value) return 0x7f;  // NaN.
  const uint8_t sign = (value < 0.0f || (value == 0.0f && 1.0f / value < 0.0f)) ? 0x80 : 0;
  const float magnitude = fabsf(value);
  if (magnitude >= kF8E4M3Max) return sign | 0x7e;  // Saturate to the largest finite value.
  // Subnormals: exponent field 0, value = mantissa × 2^-9; 8 rounds up into
  // the smallest normal, as it should.
  if (magnitude < 0.015625f) return sign | static_cast<uint8_t>(static_cast<int>(rintf(magnitude * 512.0f)));
  int exponent;
  const float fraction = frexpf(magnitude, &exponent);  // magnitude = fraction × 2^exponent, fraction in [0.5, 1)
  int mantissa = static_cast<int>(rintf((fraction * 2.0f - 1.0f) * 8.0f));
  int biased = exponent - 1 + 7;
  if (mantissa == 8) {
    mantissa = 0;
    ++biased;
  }
  if (biased > 15 || (biased == 15 && mantissa == 7)) return sign | 0x7e;
  return sign | static_cast<uint8_t>(biased << 3) | static_cast<uint8_t>(mantissa);
}

GAUNTLET_HOST_DEVICE inline float F8E4M3ToF32(uint8_t bits) {
  const float sign = (bits & 0x80) ? -1.0f : 1.0f;
  const int biased = (bits >> 3) & 0xf;
  const int mantissa = bits & 0x7;
  if (biased == 15 && mantissa == 7) return nanf("");
  if (biased == 0) return sign * ldexpf(static_cast<float>(mantissa), -9);
  return sign * ldexpf(1.0f + mantissa / 8.0f, biased - 7);
}

}  // namespace gauntlet::worker
