#include "worker/kernels/cpu_kernels.h"

#include <cmath>

namespace gauntlet::worker::cpu {

void RmsNorm(const float* x, const float* weight, float* y, int rows, int dim, float eps) {
  for (int r = 0; r < rows; ++r) {
    const float* row = x + static_cast<size_t>(r) * dim;
    double sum = 0;
    for (int i = 0; i < dim; ++i) sum += static_cast<double>(row[i]) * row[i];
    const float inverse = 1.0f / std::sqrt(static_cast<float>(sum / dim) + eps);
    for (int i = 0; i < dim; ++i) y[static_cast<size_t>(r) * dim + i] = row[i] * inverse * weight[i];
  }
}

void Rope(float* x, int heads, int head_dim, int position, float theta) {
  const int half = head_dim / 2;
  for (int h = 0; h < heads; ++h) {
    float* head = x + static_cast<size_t>(h) * head_dim;
    for (int i = 0; i < half; ++i) {
      const double frequency = std::pow(static_cast<double>(theta), -2.0 * i / head_dim);
      const double angle = position * frequency;
      const float c = static_cast<float>(std::cos(angle)), s = static_cast<float>(std::sin(angle));
      const float a = head[i], b = head[i + half];
      head[i] = a * c - b * s;
      head[i + half] = b * c + a * s;
    }
  }
}

void SwiGlu(const float* gate, const float* up, float* out, int size) {
  for (int i = 0; i < size; ++i) out[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

}  // namespace gauntlet::worker::cpu
