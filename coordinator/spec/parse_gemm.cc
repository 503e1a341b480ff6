#include "coordinator/spec/parse_gemm.h"

#include "lib/gemm/mnk.h"
#include "lib/gemm/strategy.h"

namespace gauntlet::spec::internal {
namespace {

constexpr size_t kMaxCombinations = 100000;

// The values a parameter takes: its matrix values, or its one value.
const std::vector<nlohmann::json>* MatrixValues(const JobTemplate& job, const std::string& name) {
  for (const auto& [variable, values] : job.matrix) {
    if (variable == name) return &values;
  }
  return nullptr;
}

std::vector<nlohmann::json> ValuesOf(const JobTemplate& job, const std::string& name, const nlohmann::json& fallback) {
  if (const auto* values = MatrixValues(job, name)) return *values;
  auto found = job.params.find(name);
  return {found == job.params.end() ? fallback : *found};
}

Status CheckIntegers(const ErrorContext& ctx, const YAML::Node& node, const std::string& at,
                     const std::vector<nlohmann::json>& values, int64_t min, int64_t max) {
  for (const auto& value : values) {
    if (!value.is_number_integer() || value.get<int64_t>() < min || value.get<int64_t>() > max) {
      return ctx.At(node, at, "'" + (value.is_string() ? value.get<std::string>() : value.dump()) +
                                  "' must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
    }
  }
  return Status::Ok();
}

}  // namespace

Status CheckGemmKernel(const ErrorContext& ctx, const YAML::Node& entry, const std::string& path,
                       const std::map<std::string, std::string>& files, JobTemplate* job) {
  const YAML::Node& params = entry["params"];
  const std::string at = path + ".params";
  if (!params || !params["mnk"]) {
    return ctx.At(params ? params : entry, at + ".mnk", "missing; the mnk CSV (Layer,m,n,k), as a path beside the spec");
  }
  if (!params["mnk"].IsScalar()) return ctx.At(params["mnk"], at + ".mnk", Quote(params["mnk"]) + " must be one file");
  const std::string name = params["mnk"].Scalar();
  auto file = files.find(name);
  if (file == files.end()) {
    return ctx.At(params["mnk"], at + ".mnk",
                  "'" + name + "' was not sent with the spec; gauntlet submit reads it relative to the spec's folder");
  }
  job->params["mnk_csv"] = file->second;
  if (!params["parallel"]) {
    return ctx.At(params, at + ".parallel", "missing; DATA, MODEL, HYBRID_DATA_MODEL, HYBRID_MODEL_DATA or HYBRID_CUSTOMIZED");
  }
  if (!params["num_npus"]) return ctx.At(params, at + ".num_npus", "missing; the ranks (one per device), e.g. [4, 8]");
  const auto strategies = ValuesOf(*job, "parallel", nullptr);
  const auto npus = ValuesOf(*job, "num_npus", nullptr);
  const auto packages = ValuesOf(*job, "num_packages", 1);
  const auto sizes = ValuesOf(*job, "datatype_size", 2);
  for (const auto& strategy : strategies) {
    if (!strategy.is_string() || !gemm::IsStrategy(strategy.get<std::string>())) {
      return ctx.At(params["parallel"], at + ".parallel",
                    "'" + (strategy.is_string() ? strategy.get<std::string>() : strategy.dump()) +
                        "' is not a strategy; use DATA, MODEL, HYBRID_DATA_MODEL, HYBRID_MODEL_DATA or HYBRID_CUSTOMIZED");
    }
  }
  GAUNTLET_RETURN_IF_ERROR(CheckIntegers(ctx, params["num_npus"], at + ".num_npus", npus, 1, 1024));
  if (params["num_packages"]) {
    GAUNTLET_RETURN_IF_ERROR(CheckIntegers(ctx, params["num_packages"], at + ".num_packages", packages, 1, 1024));
  }
  if (params["datatype_size"]) {
    GAUNTLET_RETURN_IF_ERROR(CheckIntegers(ctx, params["datatype_size"], at + ".datatype_size", sizes, 1, 8));
    for (const auto& size : sizes) {
      const int64_t bytes = size.get<int64_t>();
      if (bytes != 1 && bytes != 2 && bytes != 4 && bytes != 8) {
        return ctx.At(params["datatype_size"], at + ".datatype_size", "'" + size.dump() + "' must be 1, 2, 4 or 8 bytes");
      }
    }
  }
  if (strategies.size() * npus.size() * packages.size() * sizes.size() > kMaxCombinations) {
    return ctx.At(params, at, "sweeps more than " + std::to_string(kMaxCombinations) + " combinations; split the sweep");
  }
  // Every combination the matrix makes: one that cannot run is refused now.
  for (const auto& strategy : strategies) {
    auto layers = gemm::ParseMnkCsv(file->second, name, strategy.get<std::string>());
    if (!layers) return ctx.At(params["mnk"], at + ".mnk", layers.error().message());
    for (const auto& npu : npus) {
      for (const auto& package : packages) {
        for (const auto& size : sizes) {
          for (const auto& layer : *layers) {
            auto plan = gemm::PlanLayer(layer, static_cast<int>(npu.get<int64_t>()), static_cast<int>(package.get<int64_t>()),
                                        static_cast<int>(size.get<int64_t>()));
            if (!plan) {
              return ctx.At(params, at, "parallel " + strategy.get<std::string>() + ", num_npus " + npu.dump() +
                                            ", num_packages " + package.dump() + ": " + plan.error().message());
            }
          }
        }
      }
    }
  }
  // One rank per NPU: the job's devices are num_npus, on one node.
  if (entry["devices"]) {
    return ctx.At(entry["devices"], path + ".devices", "a gemm job takes num_npus devices; leave devices out");
  }
  if (MatrixValues(*job, "num_npus")) {
    job->devices_variable = "num_npus";
  } else {
    job->devices = static_cast<int>(npus.front().get<int64_t>());
  }
  std::string stem = name.substr(name.find_last_of('/') + 1);
  job->labels["model"] = stem.substr(0, stem.rfind('.'));
  return Status::Ok();
}

}  // namespace gauntlet::spec::internal
