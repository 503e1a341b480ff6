// SHA-256 digests, used for content keys of jobs and for artifact addresses.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace gauntlet {

// Lower-case hex digest of `data`.
std::string Sha256Hex(std::string_view data);

// Lower-case hex digest of a file's content, read in blocks.
StatusOr<std::string> Sha256File(const std::string& path);

// Incremental digest for streamed data.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(std::string_view data);
  // Returns the hex digest; the object must not be used afterwards.
  std::string FinishHex();

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace gauntlet
