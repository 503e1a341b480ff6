#include "lib/gemm/mnk.h"

#include <charconv>
#include <sstream>

namespace gauntlet::gemm {
namespace {

std::string Trim(std::string_view text) {
  const size_t first = text.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return "";
  const size_t last = text.find_last_not_of(" \t\r");
  return std::string(text.substr(first, last - first + 1));
}

std::vector<std::string> Fields(const std::string& line) {
  std::vector<std::string> fields;
  std::stringstream stream(line);
  for (std::string field; std::getline(stream, field, ',');) fields.push_back(Trim(field));
  if (!line.empty() && line.back() == ',') fields.emplace_back();
  return fields;
}

const char* kStrategies = "DATA, MODEL, HYBRID_DATA_MODEL or HYBRID_MODEL_DATA";

}  // namespace

bool IsLayerStrategy(std::string_view name) {
  return name == kData || name == kModel || name == kHybridDataModel || name == kHybridModelData;
}

bool IsStrategy(std::string_view name) { return IsLayerStrategy(name) || name == kHybridCustomized; }

StatusOr<std::vector<GemmLayer>> ParseMnkCsv(std::string_view text, const std::string& source,
                                             std::string_view strategy) {
  if (!IsStrategy(strategy)) {
    return Err(Status::InvalidArgument("parallel: '" + std::string(strategy) + "' is not a strategy; use " + kStrategies +
                                       " or HYBRID_CUSTOMIZED"));
  }
  std::vector<GemmLayer> layers;
  std::stringstream stream{std::string(text)};
  int line_number = 0;
  size_t columns = 0;
  for (std::string line; std::getline(stream, line);) {
    ++line_number;
    const std::string where = source + ":" + std::to_string(line_number) + ": ";
    if (Trim(line).empty()) continue;
    const std::vector<std::string> fields = Fields(Trim(line));
    if (columns == 0) {
      const bool plain = fields == std::vector<std::string>{"Layer", "m", "n", "k"};
      const bool customized = fields == std::vector<std::string>{"Layer", "m", "n", "k", "CustomizedParallelization"};
      if (!plain && !customized) {
        return Err(Status::InvalidArgument(where + "header '" + Trim(line) +
                                           "' must be Layer,m,n,k or Layer,m,n,k,CustomizedParallelization"));
      }
      columns = fields.size();
      if (strategy == kHybridCustomized && columns != 5) {
        return Err(Status::InvalidArgument(where + "parallel HYBRID_CUSTOMIZED needs each layer's strategy: make the "
                                                   "header Layer,m,n,k,CustomizedParallelization"));
      }
      continue;
    }
    if (fields.size() != columns) {
      static const char* kNames[] = {"Layer", "m", "n", "k", "CustomizedParallelization"};
      const std::string missing = fields.size() < columns ? "missing field " + std::string(kNames[fields.size()]) + "; "
                                                          : "";
      return Err(Status::InvalidArgument(where + missing + "the line has " + std::to_string(fields.size()) +
                                         " fields where the header has " + std::to_string(columns)));
    }
    GemmLayer layer;
    layer.name = fields[0];
    layer.line = line_number;
    if (layer.name.empty()) return Err(Status::InvalidArgument(where + "Layer: the name is empty"));
    int64_t* sizes[] = {&layer.m, &layer.n, &layer.k};
    const char* names[] = {"m", "n", "k"};
    for (int i = 0; i < 3; ++i) {
      const std::string& field = fields[i + 1];
      auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), *sizes[i]);
      if (ec != std::errc() || end != field.data() + field.size() || *sizes[i] <= 0) {
        return Err(Status::InvalidArgument(where + names[i] + ": '" + field + "' must be a positive integer"));
      }
    }
    if (strategy == kHybridCustomized) {
      layer.parallelism = fields[4];
      if (!IsLayerStrategy(layer.parallelism)) {
        return Err(Status::InvalidArgument(where + "CustomizedParallelization: '" + layer.parallelism +
                                           "' is not a strategy; use " + kStrategies));
      }
    } else {
      layer.parallelism = std::string(strategy);
    }
    layers.push_back(std::move(layer));
  }
  if (columns == 0) return Err(Status::InvalidArgument(source + ": empty; the first line must be Layer,m,n,k"));
  if (layers.empty()) return Err(Status::InvalidArgument(source + ": has a header but no layers"));
  return layers;
}

}  // namespace gauntlet::gemm
