// Owned device memory. Running out of it is something a user causes (a
// model or context too large for the card), so allocation returns a status.
#pragma once

#include <string>
#include <utility>

#include "common/status.h"
#include "worker/backend/gpu_vendor.h"

namespace gauntlet::worker {

inline Status GpuCheck(gpuError_t error, const char* what) {
  if (error == gpuSuccess) return Status::Ok();
  return Status::Internal(std::string(what) + ": " + gpuGetErrorString(error));
}
#define GAUNTLET_GPU_RETURN(expr) GAUNTLET_RETURN_IF_ERROR(::gauntlet::worker::GpuCheck((expr), #expr))

class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  ~DeviceBuffer() { Free(); }
  DeviceBuffer(DeviceBuffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept {
    if (this != &other) {
      Free();
      data_ = std::exchange(other.data_, nullptr);
      bytes_ = std::exchange(other.bytes_, 0);
    }
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  // Grows to at least `bytes` (contents are not kept); `what` names the
  // buffer in the error.
  Status Reserve(size_t bytes, const std::string& what) {
    if (bytes <= bytes_) return Status::Ok();
    Free();
    if (gpuMalloc(&data_, bytes) != gpuSuccess) {
      data_ = nullptr;
      (void)gpuGetLastError();  // Clear the sticky error so later calls report their own.
      return Status::Unavailable("GPU out of memory: " + std::to_string(bytes >> 20) + " MiB for " + what +
                                 "; use a smaller batch or context, a larger tp, or a card with more memory");
    }
    bytes_ = bytes;
    return Status::Ok();
  }
  Status Upload(const void* host, size_t bytes, const std::string& what) {
    GAUNTLET_RETURN_IF_ERROR(Reserve(bytes, what));
    return GpuCheck(gpuMemcpy(data_, host, bytes, gpuMemcpyHostToDevice), what.c_str());
  }

  template <typename T = void>
  T* get() const {
    return static_cast<T*>(data_);
  }
  size_t bytes() const { return bytes_; }

 private:
  void Free() {
    if (data_) (void)gpuFree(data_);  // A destructor has no one to tell.
    data_ = nullptr;
    bytes_ = 0;
  }
  void* data_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace gauntlet::worker
