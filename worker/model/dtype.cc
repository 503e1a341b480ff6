#include "worker/model/dtype.h"

#include <cmath>

namespace gauntlet::worker {

size_t SizeOf(DType dtype) {
  switch (dtype) {
    case DType::kF32: return 4;
    case DType::kF16:
    case DType::kBF16: return 2;
    case DType::kF8E4M3: return 1;
  }
  return 0;
}

std::string_view SafetensorsName(DType dtype) {
  switch (dtype) {
    case DType::kF32: return "F32";
    case DType::kF16: return "F16";
    case DType::kBF16: return "BF16";
    case DType::kF8E4M3: return "F8_E4M3";
  }
  return "?";
}

bool ParseSafetensorsDType(std::string_view name, DType* out) {
  for (DType dtype : {DType::kF32, DType::kF16, DType::kBF16, DType::kF8E4M3}) {
    if (SafetensorsName(dtype) == name) {
      *out = dtype;
      return true;
    }
  }
  return false;
}

bool ParseSpecDType(std::string_view name, DType* out) {
  if (name == "fp32") *out = DType::kF32;
  else if (name == "fp16") *out = DType::kF16;
  else if (name == "bf16") *out = DType::kBF16;
  else if (name == "fp8") *out = DType::kF8E4M3;
  else return false;
  return true;
}

uint8_t F32ToF8E4M3(float value) {
  if (std::isnan(value)) return 0x7f;
  const uint8_t sign = std::signbit(value) ? 0x80 : 0;
  float magnitude = std::fabs(value);
  if (magnitude >= 448.0f) return sign | 0x7e;  // Saturate to the largest finite value.
  // Subnormals: exponent field 0, value = mantissa × 2^-9.
  if (magnitude < std::ldexp(1.0f, -6)) {
    int mantissa = static_cast<int>(std::nearbyint(magnitude * 512.0f));  // Ties to even.
    return sign | static_cast<uint8_t>(mantissa);  // 8 rounds up into the smallest normal, as it should.
  }
  int exponent;
  float fraction = std::frexp(magnitude, &exponent);  // magnitude = fraction × 2^exponent, fraction in [0.5, 1)
  int mantissa = static_cast<int>(std::nearbyint((fraction * 2.0f - 1.0f) * 8.0f));
  int biased = exponent - 1 + 7;
  if (mantissa == 8) {
    mantissa = 0;
    ++biased;
  }
  if (biased > 15 || (biased == 15 && mantissa == 7)) return sign | 0x7e;
  return sign | static_cast<uint8_t>(biased << 3) | static_cast<uint8_t>(mantissa);
}

float F8E4M3ToF32(uint8_t bits) {
  const float sign = (bits & 0x80) ? -1.0f : 1.0f;
  const int biased = (bits >> 3) & 0xf;
  const int mantissa = bits & 0x7;
  if (biased == 15 && mantissa == 7) return std::nanf("");
  if (biased == 0) return sign * std::ldexp(static_cast<float>(mantissa), -9);
  return sign * std::ldexp(1.0f + mantissa / 8.0f, biased - 7);
}

float RoundTrip(float value, DType dtype) {
  switch (dtype) {
    case DType::kF32: return value;
    case DType::kF16: return F16ToF32(F32ToF16(value));
    case DType::kBF16: return BF16ToF32(F32ToBF16(value));
    case DType::kF8E4M3: return F8E4M3ToF32(F32ToF8E4M3(value));
  }
  return value;
}

}  // namespace gauntlet::worker
