#include "worker/model/safetensors.h"

#include <cerrno>
#include <cstring>
#include <fstream>

#include <nlohmann/json.hpp>

namespace gauntlet::worker {
namespace {

float Decode(const unsigned char* bytes, DType dtype) {
  switch (dtype) {
    case DType::kF32: {
      float value;
      std::memcpy(&value, bytes, 4);
      return value;
    }
    case DType::kF16: return F16ToF32(static_cast<uint16_t>(bytes[0] | (bytes[1] << 8)));
    case DType::kBF16: return BF16ToF32(static_cast<uint16_t>(bytes[0] | (bytes[1] << 8)));
    case DType::kF8E4M3: return F8E4M3ToF32(bytes[0]);
  }
  return 0;
}

void Encode(float value, DType dtype, unsigned char* out) {
  switch (dtype) {
    case DType::kF32: std::memcpy(out, &value, 4); return;
    case DType::kF16: {
      uint16_t bits = F32ToF16(value);
      out[0] = bits & 0xff, out[1] = bits >> 8;
      return;
    }
    case DType::kBF16: {
      uint16_t bits = F32ToBF16(value);
      out[0] = bits & 0xff, out[1] = bits >> 8;
      return;
    }
    case DType::kF8E4M3: out[0] = F32ToF8E4M3(value); return;
  }
}

}  // namespace

StatusOr<SafetensorsFile> SafetensorsFile::Open(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Err(Status::NotFound("cannot open " + path + ": " + std::strerror(errno)));
  unsigned char length_bytes[8];
  if (!in.read(reinterpret_cast<char*>(length_bytes), 8)) return Err(Status::InvalidArgument(path + ": too short"));
  uint64_t header_length = 0;
  for (int i = 7; i >= 0; --i) header_length = (header_length << 8) | length_bytes[i];
  if (header_length > (100u << 20)) return Err(Status::InvalidArgument(path + ": header length is implausible"));
  std::string header(header_length, '\0');
  if (!in.read(header.data(), static_cast<std::streamsize>(header_length))) {
    return Err(Status::InvalidArgument(path + ": header cut short"));
  }
  auto json = nlohmann::json::parse(header, nullptr, false);
  if (!json.is_object()) return Err(Status::InvalidArgument(path + ": header is not a JSON object"));
  in.seekg(0, std::ios::end);
  const uint64_t data_size = static_cast<uint64_t>(in.tellg()) - 8 - header_length;

  SafetensorsFile file;
  file.path_ = path;
  file.data_start_ = 8 + header_length;
  for (const auto& [name, info] : json.items()) {
    if (name == "__metadata__") continue;
    Entry entry;
    if (!info.is_object() || !info.contains("dtype") || !info.contains("shape") || !info.contains("data_offsets")) {
      return Err(Status::InvalidArgument(path + ": tensor " + name + " lacks dtype, shape or data_offsets"));
    }
    if (!ParseSafetensorsDType(info["dtype"].get<std::string>(), &entry.dtype)) {
      return Err(Status::InvalidArgument(path + ": tensor " + name + " has dtype " + info["dtype"].dump() +
                                         "; supported: F32, F16, BF16, F8_E4M3"));
    }
    entry.shape = info["shape"].get<std::vector<int64_t>>();
    entry.begin = info["data_offsets"][0].get<uint64_t>();
    entry.end = info["data_offsets"][1].get<uint64_t>();
    uint64_t elements = 1;
    for (int64_t dim : entry.shape) elements *= static_cast<uint64_t>(dim);
    if (entry.end < entry.begin || entry.end > data_size || entry.end - entry.begin != elements * SizeOf(entry.dtype)) {
      return Err(Status::InvalidArgument(path + ": tensor " + name + "'s byte range does not match its shape"));
    }
    file.entries_[name] = std::move(entry);
  }
  return file;
}

std::vector<std::string> SafetensorsFile::Names() const {
  std::vector<std::string> names;
  for (const auto& [name, entry] : entries_) names.push_back(name);
  return names;
}

StatusOr<Tensor> SafetensorsFile::Read(const std::string& name, int64_t row_begin, int64_t row_end, int64_t col_begin,
                                       int64_t col_end) const {
  auto found = entries_.find(name);
  if (found == entries_.end()) return Err(Status::NotFound(path_ + ": no tensor " + name));
  const Entry& entry = found->second;
  const int64_t rows = entry.shape.empty() ? 1 : entry.shape[0];
  int64_t row_size = 1;
  for (size_t i = 1; i < entry.shape.size(); ++i) row_size *= entry.shape[i];
  if (row_end < 0) row_end = rows;
  const int64_t cols = entry.shape.size() == 2 ? entry.shape[1] : row_size;
  if (col_end < 0) col_end = cols;
  if (row_begin < 0 || row_end > rows || row_begin >= row_end || col_begin < 0 || col_end > cols ||
      col_begin >= col_end || (entry.shape.size() != 2 && (col_begin != 0 || col_end != cols))) {
    return Err(Status::InvalidArgument(path_ + ": tensor " + name + " has no such slice"));
  }
  const size_t element = SizeOf(entry.dtype);
  std::ifstream in(path_, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(data_start_ + entry.begin + row_begin * row_size * element));
  std::vector<unsigned char> raw(static_cast<size_t>((row_end - row_begin) * row_size) * element);
  if (!in.read(reinterpret_cast<char*>(raw.data()), static_cast<std::streamsize>(raw.size()))) {
    return Err(Status::InvalidArgument(path_ + ": tensor " + name + " data cut short"));
  }
  Tensor tensor;
  tensor.shape = entry.shape;
  if (!tensor.shape.empty()) tensor.shape[0] = row_end - row_begin;
  if (tensor.shape.size() == 2) tensor.shape[1] = col_end - col_begin;
  const int64_t out_cols = entry.shape.size() == 2 ? col_end - col_begin : row_size;
  tensor.data.resize(static_cast<size_t>((row_end - row_begin) * out_cols));
  // An 8B model is 8 billion values to widen: every core helps a load.
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < row_end - row_begin; ++r) {
    for (int64_t c = 0; c < out_cols; ++c) {
      tensor.data[static_cast<size_t>(r * out_cols + c)] =
          Decode(&raw[static_cast<size_t>((r * row_size + col_begin + c) * static_cast<int64_t>(element))], entry.dtype);
    }
  }
  return tensor;
}

Status WriteSafetensors(const std::string& path, const std::map<std::string, Tensor>& tensors, DType dtype) {
  nlohmann::json header = nlohmann::json::object();
  uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    uint64_t bytes = tensor.data.size() * SizeOf(dtype);
    header[name] = {{"dtype", SafetensorsName(dtype)}, {"shape", tensor.shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  header["__metadata__"] = {{"format", "pt"}, {"written_by", "gauntlet-worker"}};
  std::string text = header.dump();
  while ((8 + text.size()) % 8 != 0) text += ' ';  // Align the data section, as the reference writer does.
  std::ofstream out(path, std::ios::binary);
  if (!out) return Status::Unavailable("cannot write " + path + ": " + std::strerror(errno));
  unsigned char length[8];
  for (int i = 0; i < 8; ++i) length[i] = static_cast<unsigned char>((text.size() >> (8 * i)) & 0xff);
  out.write(reinterpret_cast<const char*>(length), 8);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  std::vector<unsigned char> buffer;
  for (const auto& [name, tensor] : tensors) {
    buffer.resize(tensor.data.size() * SizeOf(dtype));
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < tensor.data.size(); ++i) Encode(tensor.data[i], dtype, &buffer[i * SizeOf(dtype)]);
    out.write(reinterpret_cast<const char*>(buffer.data()), static_cast<std::streamsize>(buffer.size()));
  }
  if (!out) return Status::Unavailable("cannot write " + path + ": disk full?");
  return Status::Ok();
}

}  // namespace gauntlet::worker
