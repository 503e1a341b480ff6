// The vector instructions the CPU reference's projections are compiled for.
// The build targets baseline x86-64, since a farm's nodes need not match the
// build machine; the wider variants are chosen when the worker runs, by what
// the node's CPU reports. Variants differ only in summation order and fused
// multiply-adds, so their results agree to fp32 rounding, not bit for bit.
#pragma once

#include <string_view>
#include <vector>

namespace gauntlet::worker::cpu {

enum class CpuIsa {
  kBaseline,  // what the compiler targets by default (SSE2 on x86-64)
  kAvx2Fma,   // 8 lanes with fused multiply-add (x86-64-v3)
  kAvx512,    // 16 lanes (x86-64-v4)
};

std::string_view CpuIsaName(CpuIsa isa);
// Every variant this CPU can run, baseline first and the widest last.
std::vector<CpuIsa> SupportedCpuIsas();
// The widest supported variant: what MatMulTransposed uses.
CpuIsa BestCpuIsa();

}  // namespace gauntlet::worker::cpu
