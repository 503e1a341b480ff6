// The number formats models and KV caches are stored in, and conversions to
// and from fp32. fp16 goes through the compiler's _Float16; bf16 and fp8 e4m3
// are bit manipulations (round to nearest even; e4m3 saturates at ±448).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "worker/model/fp8_e4m3.h"

namespace gauntlet::worker {

enum class DType { kF32, kF16, kBF16, kF8E4M3 };

// Bytes per element.
size_t SizeOf(DType dtype);
// "F32", "F16", "BF16", "F8_E4M3": the safetensors names.
std::string_view SafetensorsName(DType dtype);
bool ParseSafetensorsDType(std::string_view name, DType* out);
// "fp32", "fp16", "bf16", "fp8": the sweep spec's names.
bool ParseSpecDType(std::string_view name, DType* out);

inline uint16_t F32ToF16(float value) {
  _Float16 half = static_cast<_Float16>(value);
  uint16_t bits;
  std::memcpy(&bits, &half, 2);
  return bits;
}

inline float F16ToF32(uint16_t bits) {
  _Float16 half;
  std::memcpy(&half, &bits, 2);
  return static_cast<float>(half);
}

inline uint16_t F32ToBF16(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  if ((bits & 0x7fffffff) > 0x7f800000) return static_cast<uint16_t>((bits >> 16) | 0x40);  // Quiet NaN.
  bits += 0x7fff + ((bits >> 16) & 1);  // Round to nearest, ties to even.
  return static_cast<uint16_t>(bits >> 16);
}

inline float BF16ToF32(uint16_t bits) {
  uint32_t wide = static_cast<uint32_t>(bits) << 16;
  float value;
  std::memcpy(&value, &wide, 4);
  return value;
}


// Rounds through a format and back: what storing in `dtype` does to a value.
float RoundTrip(float value, DType dtype);

}  // namespace gauntlet::worker
