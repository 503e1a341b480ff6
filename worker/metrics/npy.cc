#include "worker/metrics/npy.h"

#include <cstring>
#include <fstream>
#include <regex>

#include "worker/model/dtype.h"

namespace gauntlet::worker {

Status WriteNpy(const std::string& path, const std::vector<int64_t>& shape, const std::vector<float>& data) {
  std::string dims;
  for (int64_t dim : shape) dims += std::to_string(dim) + ", ";
  if (shape.size() > 1) dims.resize(dims.size() - 1);  // (a, b) but (a,) for one dimension.
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
  // Magic (6) + version (2) + length (2) + header, padded with spaces to a multiple of 64, ending in '\n'.
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::ofstream out(path, std::ios::binary);
  if (!out) return Status::Unavailable("cannot write " + path);
  out.write("\x93NUMPY\x01\x00", 8);
  const uint16_t length = static_cast<uint16_t>(header.size());
  out.put(static_cast<char>(length & 0xff));
  out.put(static_cast<char>(length >> 8));
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size() * sizeof(float)));
  return out ? Status::Ok() : Status::Unavailable("cannot write " + path + ": disk full?");
}

StatusOr<std::vector<float>> ReadNpy(const std::string& path, std::vector<int64_t>* shape) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Err(Status::NotFound(path + ": missing"));
  char magic[10];
  if (!in.read(magic, 10) || std::string(magic, 6) != "\x93NUMPY") {
    return Err(Status::InvalidArgument(path + ": not a .npy file (no \\x93NUMPY magic)"));
  }
  const int major = static_cast<unsigned char>(magic[6]);
  size_t length = static_cast<unsigned char>(magic[8]) | (static_cast<unsigned char>(magic[9]) << 8);
  if (major >= 2) {  // Versions 2 and 3 give the header length in four bytes.
    char more[2];
    if (!in.read(more, 2)) return Err(Status::InvalidArgument(path + ": header cut short"));
    length |= static_cast<size_t>(static_cast<unsigned char>(more[0])) << 16 |
              static_cast<size_t>(static_cast<unsigned char>(more[1])) << 24;
  }
  if (length > (1 << 20)) return Err(Status::InvalidArgument(path + ": header of " + std::to_string(length) + " bytes"));
  std::string header(length, '\0');
  if (!in.read(header.data(), static_cast<std::streamsize>(length))) {
    return Err(Status::InvalidArgument(path + ": header cut short"));
  }
  std::smatch descr, dims_match;
  if (!std::regex_search(header, descr, std::regex("'descr': *'([^']*)'")) ||
      !std::regex_search(header, dims_match, std::regex("'shape': *\\(([0-9, ]*)\\)"))) {
    return Err(Status::InvalidArgument(path + ": header names no descr or shape"));
  }
  if (header.find("'fortran_order': True") != std::string::npos) {
    return Err(Status::InvalidArgument(path + ": Fortran order; save a C-ordered array (np.ascontiguousarray)"));
  }
  // bf16 has no numpy type: its 16-bit patterns as uint16, or as ml_dtypes'
  // bfloat16, which numpy saves as two opaque bytes.
  const std::string type = descr[1];
  enum class Stored { kF32, kF16, kBF16 } stored;
  if (type == "<f4") {
    stored = Stored::kF32;
  } else if (type == "<f2") {
    stored = Stored::kF16;
  } else if (type == "<u2" || type == "|V2" || type == "<V2") {
    stored = Stored::kBF16;
  } else {
    return Err(Status::InvalidArgument(path + ": dtype '" + type +
                                       "' is not float32 ('<f4'), float16 ('<f2') or bf16 (its bits as '<u2')"));
  }
  shape->clear();
  int64_t count = 1;
  std::string dims = dims_match[1];
  static const std::regex number("[0-9]+");
  for (auto it = std::sregex_iterator(dims.begin(), dims.end(), number); it != std::sregex_iterator(); ++it) {
    shape->push_back(std::stoll(it->str()));
    count *= shape->back();
  }
  const size_t element = stored == Stored::kF32 ? 4 : 2;
  std::string bytes(static_cast<size_t>(count) * element, '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (static_cast<size_t>(in.gcount()) != bytes.size()) {
    return Err(Status::InvalidArgument(path + ": data cut short: " + std::to_string(in.gcount()) + " of " +
                                       std::to_string(bytes.size()) + " bytes"));
  }
  std::vector<float> data(static_cast<size_t>(count));
  if (stored == Stored::kF32) {
    std::memcpy(data.data(), bytes.data(), bytes.size());
    return data;
  }
  for (size_t i = 0; i < data.size(); ++i) {
    const uint16_t bits = static_cast<uint16_t>(static_cast<unsigned char>(bytes[2 * i]) |
                                                (static_cast<unsigned char>(bytes[2 * i + 1]) << 8));
    data[i] = stored == Stored::kF16 ? F16ToF32(bits) : BF16ToF32(bits);
  }
  return data;
}

}  // namespace gauntlet::worker
