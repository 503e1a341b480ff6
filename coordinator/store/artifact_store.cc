#include "coordinator/store/artifact_store.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace gauntlet::store {

namespace fs = std::filesystem;

bool IsSha256Hex(std::string_view text) {
  if (text.size() != 64) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

ArtifactStore::ArtifactStore(std::string root, int64_t max_bytes) : root_(std::move(root)), max_bytes_(max_bytes) {
  // Without a cap there is nothing to count against: no walk over a store
  // that may hold millions of files at every start-up.
  if (max_bytes_ <= 0) return;
  std::error_code ec;
  int64_t used = 0;
  for (auto it = fs::recursive_directory_iterator(root_, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    std::error_code size_error;
    if (it->is_regular_file(size_error)) used += static_cast<int64_t>(it->file_size(size_error));
  }
  used_bytes_ = used;
}

Status ArtifactStore::Reserve(int64_t bytes) {
  if (max_bytes_ <= 0) return Status::Ok();
  const int64_t before = used_bytes_.fetch_add(bytes);
  if (max_bytes_ > 0 && before + bytes > max_bytes_) {
    used_bytes_ -= bytes;
    return Status::Unavailable("artifact store full: " + std::to_string(before) + " of " + std::to_string(max_bytes_) +
                               " bytes used, " + std::to_string(bytes) + " more needed; free space under " + root_ +
                               " or raise gauntlet-coordinator --max-artifact-bytes");
  }
  return Status::Ok();
}

ArtifactStore::Writer::Writer(ArtifactStore& store, std::string expected_sha256, std::string temp_path,
                              std::string final_path, std::FILE* file)
    : store_(store),
      expected_sha256_(std::move(expected_sha256)),
      temp_path_(std::move(temp_path)),
      final_path_(std::move(final_path)),
      file_(file) {}

ArtifactStore::Writer::~Writer() {
  if (file_) {
    std::fclose(file_);
    std::error_code ignored;
    fs::remove(temp_path_, ignored);
    store_.Release(size_);
  }
}

Status ArtifactStore::Writer::Append(std::string_view data) {
  GAUNTLET_RETURN_IF_ERROR(store_.Reserve(static_cast<int64_t>(data.size())));
  if (std::fwrite(data.data(), 1, data.size(), file_) != data.size()) {
    store_.Release(static_cast<int64_t>(data.size()));
    return Status::Unavailable("cannot write artifact " + temp_path_ + ": " + std::strerror(errno) +
                               "; free space under the artifacts folder");
  }
  hasher_.Update(data);
  size_ += static_cast<int64_t>(data.size());
  return Status::Ok();
}

StatusOr<int64_t> ArtifactStore::Writer::Commit() {
  bool flushed = std::fflush(file_) == 0 && fsync(fileno(file_)) == 0;
  int error = errno;
  std::fclose(file_);
  file_ = nullptr;
  std::error_code ignored;
  if (!flushed) {
    fs::remove(temp_path_, ignored);
    store_.Release(size_);
    return Err(Status::Unavailable("cannot write artifact " + temp_path_ + ": " + std::strerror(error) +
                                   "; free space under the artifacts folder"));
  }
  std::string actual = hasher_.FinishHex();
  if (actual != expected_sha256_) {
    fs::remove(temp_path_, ignored);
    store_.Release(size_);
    return Err(Status::InvalidArgument("artifact content hashes to " + actual + ", not the declared " +
                                       expected_sha256_));
  }
  std::error_code ec;
  // Content-addressed: an artifact stored before is the same bytes, counted once.
  if (fs::exists(final_path_, ec)) {
    fs::remove(temp_path_, ignored);
    store_.Release(size_);
    return size_;
  }
  fs::rename(temp_path_, final_path_, ec);
  if (ec) {
    fs::remove(temp_path_, ignored);
    store_.Release(size_);
    return Err(Status::Unavailable("cannot publish artifact " + final_path_ + ": " + ec.message()));
  }
  return size_;
}

StatusOr<std::unique_ptr<ArtifactStore::Writer>> ArtifactStore::Begin(const std::string& sha256) {
  if (!IsSha256Hex(sha256)) {
    return Err(Status::InvalidArgument("artifact digest '" + sha256 + "' is not 64 lower-case hex digits"));
  }
  std::string final_path = PathFor(sha256);
  std::error_code ec;
  fs::create_directories(fs::path(final_path).parent_path(), ec);
  if (ec) return Err(Status::Unavailable("cannot create " + fs::path(final_path).parent_path().string() + ": " + ec.message()));
  static std::atomic<uint64_t> counter{0};
  std::string temp_path = final_path + ".tmp." + std::to_string(getpid()) + "." + std::to_string(counter++);
  std::FILE* file = std::fopen(temp_path.c_str(), "wb");
  if (!file) return Err(Status::Unavailable("cannot create " + temp_path + ": " + std::strerror(errno)));
  return std::unique_ptr<Writer>(new Writer(*this, sha256, temp_path, final_path, file));
}

int ArtifactStore::RemoveStaleTemporaries() {
  int removed = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root_, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file() && it->path().filename().string().find(".tmp.") != std::string::npos) {
      std::error_code size_error, ignored;
      const auto size = static_cast<int64_t>(it->file_size(size_error));
      if (fs::remove(it->path(), ignored)) {
        ++removed;
        if (!size_error) Release(size);
      }
    }
  }
  return removed;
}

std::string ArtifactStore::PathFor(const std::string& sha256) const {
  return root_ + "/" + sha256.substr(0, 2) + "/" + sha256;
}

bool ArtifactStore::Exists(const std::string& sha256) const {
  std::error_code ec;
  return fs::exists(PathFor(sha256), ec);
}

}  // namespace gauntlet::store
