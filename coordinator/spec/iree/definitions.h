// IREE test suites' JSON definitions (iree-test-suites' torch_models format):
// module definitions (MLIR and compiler flags) and quality, benchmark and
// compstat tests. Read with positions, so every error names the file, line,
// column and field. Pure: text in, definitions out.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace gauntlet::spec::iree {

// An argspec: `<value>=@<downloaded url>`, either part optional.
struct ArgSpec {
  std::string value;
  std::string url;
};

struct WeightSpec {
  std::string type;    // url | random
  std::string scope;
  std::string url;     // type url
  std::string module;  // type random: whose MLIR names the parameters
  int64_t seed = 0;
};

// Where a module is compiled for: the HAL device and, if given, the chip.
struct Target {
  std::string device;  // hip, cuda, vulkan, llvm-cpu, local, vmvx
  std::string chip;    // gfx1201, sm_90, host; "" when the flags name none.
  std::string Name() const { return chip.empty() ? device : device + ":" + chip; }
};

struct ModuleDefinition {
  std::string name;  // As tests name it: the path under the modules folder, without .json.
  std::string file;  // For messages.
  std::string mlir;  // A URL, or a path (relative ones resolve against the external folder).
  std::string container;  // The optional "type" (git-lfs, azure): where the MLIR lives.
  std::vector<std::string> compiler_flags;
  Target target;
};

struct TestDefinition {
  std::string id;    // The path under the tests folder, without .json.
  std::string file;  // For messages.
  std::string type;  // quality | benchmark | compstat; also a marker.
  std::vector<std::string> markers;
  std::vector<std::string> modules;  // compstat: its one `module`.
  std::vector<WeightSpec> weights;
  std::vector<ArgSpec> inputs, outputs, expected_outputs;
  std::vector<std::string> run_args;
  std::optional<double> golden_time_ms;
  std::optional<double> golden_dispatch_count;
  std::optional<double> golden_binary_size;
  // Of the `modules`/`module` field, for a missing module: "file:line:column".
  std::string modules_at;
};

// Nullopt: a JSON file under the tests folder that is no test (no `type`, or
// a module definition, which has `mlir`), skipped as pytest-iree skips it.
StatusOr<std::optional<TestDefinition>> ParseTestDefinition(const std::string& text, const std::string& file,
                                                            const std::string& id);
StatusOr<ModuleDefinition> ParseModuleDefinition(const std::string& text, const std::string& file,
                                                 const std::string& name);

// The target the flags compile for (--iree-hal-target-device, or the older
// --iree-hal-target-backends; the chip from --iree-hip-target,
// --iree-rocm-target, --iree-cuda-target or --iree-llvmcpu-target-cpu).
std::optional<Target> TargetOf(const std::vector<std::string>& compiler_flags);

nlohmann::json ToJson(const ArgSpec& arg);
nlohmann::json ToJson(const WeightSpec& weight);

}  // namespace gauntlet::spec::iree
