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
