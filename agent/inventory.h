// The devices an agent offers, from --devices: "cpu:4", "sim:8", "gpu:0,1,3",
// "gpu:8" or "auto" (GPUs the driver exposes, else one cpu slot per core).
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "gauntlet/v1/types.pb.h"

namespace gauntlet::agent {

// Pure: parses a --devices value. `auto` is resolved by DetectDevices().
StatusOr<std::vector<v1::Device>> ParseDeviceSpec(const std::string& spec);

// Resolves "auto": /dev/nvidiaN and /dev/dri render nodes of AMD GPUs (kfd),
// falling back to cpu:<cores>.
std::vector<v1::Device> DetectDevices();
// The GPUs the driver exposes (DetectDevices without the fallback).
std::vector<v1::Device> DetectGpus();

// Pure: every GPU `offered` names must be one `present` has; an agent that
// offers more than its node holds is refused at start-up, as Slurm drains a
// node that reports fewer resources than configured. The error says how many
// were found and which --devices would be right.
Status CheckGpusPresent(const std::vector<v1::Device>& offered, const std::vector<v1::Device>& present);

// The cores this process may run on (its affinity mask, so a container's
// cpuset counts, not the host's cores).
int UsableCores();
// Pure: each device's even share of the node's cores, at least one. Every
// worker rank (one per device) runs its CPU kernels on that many threads, so
// that jobs sharing a node do not each start a thread per core.
int ThreadsPerDevice(int cores, int devices);

// The suites built into the worker at `worker_path` (its `suites` command),
// or an error saying why they could not be read.
StatusOr<std::vector<std::string>> WorkerSuites(const std::string& worker_path);

}  // namespace gauntlet::agent
