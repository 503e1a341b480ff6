// Every kernel a process runs, with its start and end on the GPU's clock,
// graph replays included: what Nsight Systems would show, for machines where
// it cannot make a report. Loaded by the CUDA driver itself:
//
//   g++ -O2 -shared -fPIC -I$CUDA/include bench/gpu/kernel_timeline.cc
//       -L$CUDA/lib64 -Wl,-rpath,$CUDA/lib64 -lcupti -o libtimeline.so
//   CUDA_INJECTION64_PATH=$PWD/libtimeline.so GAUNTLET_TIMELINE=kernels.csv PROGRAM ...
//
// Writes `start_ns,end_ns,graph_id,grid,name` per kernel.
// Tracing adds no work to a kernel; CUPTI timestamps each one as it starts
// and ends (decode_step_bench.py --timeline reads the file).
#include <cupti.h>
#include <cxxabi.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>

namespace {

// Records go to the file as CUPTI hands over each filled buffer (every
// 100 ms at least), so a process that exits however it exits leaves what it ran.
std::mutex out_mutex;
FILE* out = nullptr;

std::string Demangled(const char* name) {
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> plain(abi::__cxa_demangle(name, nullptr, nullptr, &status), &std::free);
  return status == 0 && plain ? std::string(plain.get()) : std::string(name);
}

void CUPTIAPI BufferRequested(uint8_t** buffer, size_t* size, size_t* max_records) {
  constexpr size_t kBytes = 8 << 20;
  *buffer = static_cast<uint8_t*>(std::aligned_alloc(8, kBytes));
  *size = kBytes;
  *max_records = 0;
}

void CUPTIAPI BufferCompleted(CUcontext, uint32_t, uint8_t* buffer, size_t, size_t valid_bytes) {
  CUpti_Activity* record = nullptr;
  std::lock_guard<std::mutex> lock(out_mutex);
  while (cuptiActivityGetNextRecord(buffer, valid_bytes, &record) == CUPTI_SUCCESS) {
    if (record->kind != CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL || !out) continue;
    const auto* kernel = reinterpret_cast<const CUpti_ActivityKernel10*>(record);
    std::string name = Demangled(kernel->name);
    // The parameter list goes; "(anonymous namespace)" is part of the name.
    for (size_t at; (at = name.find("(anonymous namespace)::")) != std::string::npos;) name.erase(at, 23);
    name = name.substr(0, name.find('('));
    for (char& c : name) c = c == ',' ? ';' : c;
    std::fprintf(out, "%llu,%llu,%u,%dx%dx%d,%s\n", static_cast<unsigned long long>(kernel->start),
                 static_cast<unsigned long long>(kernel->end), kernel->graphId, kernel->gridX, kernel->gridY,
                 kernel->gridZ, name.c_str());
  }
  std::free(buffer);
}

void Finish() {
  cuptiActivityFlushAll(CUPTI_ACTIVITY_FLAG_FLUSH_FORCED);
  std::lock_guard<std::mutex> lock(out_mutex);
  if (out) std::fclose(out);
  out = nullptr;
}

}  // namespace

extern "C" int InitializeInjection() {
  const char* path = std::getenv("GAUNTLET_TIMELINE");
  out = std::fopen(path ? path : "kernels.csv", "w");
  if (!out || cuptiActivityRegisterCallbacks(BufferRequested, BufferCompleted) != CUPTI_SUCCESS ||
      cuptiActivityEnable(CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL) != CUPTI_SUCCESS) {
    std::fprintf(stderr, "kernel_timeline: CUPTI would not trace kernels\n");
    return 0;
  }
  cuptiActivityFlushPeriod(100);
  std::atexit(Finish);
  return 1;
}
