#include "worker/metrics/npy.h"

#include <fstream>
#include <regex>

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
  if (!in) return Err(Status::NotFound("cannot open " + path));
  char magic[10];
  if (!in.read(magic, 10) || std::string(magic, 6) != "\x93NUMPY") {
    return Err(Status::InvalidArgument(path + ": not a .npy file"));
  }
  const size_t length = static_cast<unsigned char>(magic[8]) | (static_cast<unsigned char>(magic[9]) << 8);
  std::string header(length, '\0');
  in.read(header.data(), static_cast<std::streamsize>(length));
  std::smatch match;
  if (header.find("'<f4'") == std::string::npos ||
      !std::regex_search(header, match, std::regex("'shape': \\(([0-9, ]*)\\)"))) {
    return Err(Status::InvalidArgument(path + ": only little-endian float32 arrays are read"));
  }
  shape->clear();
  int64_t count = 1;
  std::string dims = match[1];
  static const std::regex number("[0-9]+");
  for (auto it = std::sregex_iterator(dims.begin(), dims.end(), number); it != std::sregex_iterator(); ++it) {
    shape->push_back(std::stoll(it->str()));
    count *= shape->back();
  }
  std::vector<float> data(static_cast<size_t>(count));
  if (!in.read(reinterpret_cast<char*>(data.data()), static_cast<std::streamsize>(data.size() * sizeof(float)))) {
    return Err(Status::InvalidArgument(path + ": data cut short"));
  }
  return data;
}

}  // namespace gauntlet::worker
