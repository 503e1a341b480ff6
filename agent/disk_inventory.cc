#include "agent/disk_inventory.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

namespace gauntlet::agent {
namespace {

namespace fs = std::filesystem;

// Symlinks are kept as written: a spec names the path a user sees, and the
// coordinator compares paths, not files.
std::string Absolute(const fs::path& path) {
  std::error_code error;
  fs::path absolute = fs::absolute(path, error);
  return (error ? path : absolute).lexically_normal().string();
}

// Visits every entry under `root` to `depth` levels, skipping what cannot be read.
template <typename Visit>
void Walk(const fs::path& root, int depth, Visit&& visit) {
  std::error_code error;
  fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, error);
  for (; !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
    if (it.depth() >= depth) it.disable_recursion_pending();
    if (!visit(it->path())) return;
  }
}

}  // namespace

v1::Inventory ScanInventory(const std::vector<std::string>& model_roots, const std::vector<std::string>& dataset_roots,
                            int depth) {
  v1::Inventory inventory;
  std::vector<std::string> models, datasets;
  for (const auto& root : model_roots) {
    inventory.add_model_roots(Absolute(root));
    Walk(root, depth, [&](const fs::path& path) {
      std::error_code error;
      if (fs::is_directory(path, error) && fs::is_regular_file(path / "config.json", error)) {
        models.push_back(Absolute(path));
      }
      return models.size() < static_cast<size_t>(kMaxInventoryEntries);
    });
  }
  for (const auto& root : dataset_roots) {
    inventory.add_dataset_roots(Absolute(root));
    Walk(root, depth, [&](const fs::path& path) {
      std::error_code error;
      if (fs::is_regular_file(path, error)) datasets.push_back(Absolute(path));
      return datasets.size() < static_cast<size_t>(kMaxInventoryEntries);
    });
  }
  inventory.set_truncated(models.size() >= static_cast<size_t>(kMaxInventoryEntries) ||
                          datasets.size() >= static_cast<size_t>(kMaxInventoryEntries));
  std::sort(models.begin(), models.end());
  std::sort(datasets.begin(), datasets.end());
  for (auto& model : models) inventory.add_models(std::move(model));
  for (auto& dataset : datasets) inventory.add_datasets(std::move(dataset));
  return inventory;
}

bool SameInventory(const v1::Inventory& a, const v1::Inventory& b) {
  return a.SerializeAsString() == b.SerializeAsString();
}

}  // namespace gauntlet::agent
