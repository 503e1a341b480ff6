// The sections of a sweep spec beyond free-form jobs: the model matrix,
// context lengths, programs, datasets, test, targets, resources, cache and
// kernels. Each fills its part of the SweepSpec or returns the first error.
#pragma once

#include <map>
#include <string>

#include <yaml-cpp/yaml.h>

#include "coordinator/spec/parse_util.h"
#include "coordinator/spec/spec.h"

namespace gauntlet::spec::internal {

Status ParseModels(const ErrorContext& ctx, const YAML::Node& node, const RunnerSpec& default_runner, SweepSpec* spec);
Status ParseContextLengths(const ErrorContext& ctx, const YAML::Node& node, SweepSpec* spec);
// `files` holds the content of files the spec names, keyed by the name as written.
Status ParsePrograms(const ErrorContext& ctx, const YAML::Node& node, const std::map<std::string, std::string>& files,
                     SweepSpec* spec);
Status ParseDatasets(const ErrorContext& ctx, const YAML::Node& node, SweepSpec* spec);
Status ParseTest(const ErrorContext& ctx, const YAML::Node& node, SweepSpec* spec);
Status ParseTargets(const ErrorContext& ctx, const YAML::Node& node, SweepSpec* spec);
Status ParseSchedule(const ErrorContext& ctx, const YAML::Node& node, SweepSpec* spec);
Status ParseResources(const ErrorContext& ctx, const YAML::Node& node, SweepSpec* spec);
Status ParseCache(const ErrorContext& ctx, const YAML::Node& node, SweepSpec* spec);
// Each kernel entry becomes a worker job on suite "kernel.<suite>"; list-valued
// parameters become its matrix.
// `files` holds the files the entries name (a gemm suite's mnk CSV).
Status ParseKernels(const ErrorContext& ctx, const YAML::Node& node, const std::map<std::string, std::string>& files,
                    SweepSpec* spec);

StatusOr<double> ParseNumber(const ErrorContext& ctx, const YAML::Node& node, const std::string& path, double min,
                             double max);
StatusOr<bool> ParseBool(const ErrorContext& ctx, const YAML::Node& node, const std::string& path);

}  // namespace gauntlet::spec::internal
