// Reads and writes the safetensors format: an 8-byte little-endian header
// length, a JSON header naming each tensor's dtype, shape and byte range, then
// the raw data. Tensors are returned as fp32 whatever their stored dtype.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "worker/model/dtype.h"

namespace gauntlet::worker {

struct Tensor {
  std::vector<int64_t> shape;
  std::vector<float> data;  // Row-major.
  int64_t rows() const { return shape.empty() ? 0 : shape[0]; }
  int64_t cols() const { return shape.size() < 2 ? 1 : shape[1]; }
};

// Opens a file and reads its header; tensors are read on request.
class SafetensorsFile {
 public:
  static StatusOr<SafetensorsFile> Open(const std::string& path);
  bool Has(const std::string& name) const { return entries_.contains(name); }
  std::vector<std::string> Names() const;
  // Reads a tensor as fp32. With `row_begin/row_end` only those rows (of the
  // first dimension); with `col_begin/col_end` only those columns of a 2-D
  // tensor — how tensor-parallel ranks read their shard.
  StatusOr<Tensor> Read(const std::string& name, int64_t row_begin = 0, int64_t row_end = -1, int64_t col_begin = 0,
                        int64_t col_end = -1) const;

 private:
  struct Entry {
    DType dtype;
    std::vector<int64_t> shape;
    uint64_t begin, end;  // Byte offsets into the data section.
  };
  std::string path_;
  uint64_t data_start_ = 0;
  std::map<std::string, Entry> entries_;
};

// Writes tensors (given as fp32) stored in `dtype`.
Status WriteSafetensors(const std::string& path, const std::map<std::string, Tensor>& tensors, DType dtype);

}  // namespace gauntlet::worker
