// What an agent holds for the model stages (--models, --datasets): model
// folders (holding a config.json) and dataset files, reported when it
// registers so a submit can refuse a path no agent has.
#pragma once

#include <string>
#include <vector>

#include "gauntlet/v1/types.pb.h"

namespace gauntlet::agent {

// Most entries reported per kind; a bigger folder says `truncated`.
inline constexpr int kMaxInventoryEntries = 10'000;

// Model folders are the roots' subfolders (to `depth` levels) holding a
// config.json; datasets are the regular files under their roots (to the
// same depth). Paths are absolute and sorted; unreadable folders are skipped.
v1::Inventory ScanInventory(const std::vector<std::string>& model_roots, const std::vector<std::string>& dataset_roots,
                            int depth = 3);

bool SameInventory(const v1::Inventory& a, const v1::Inventory& b);

}  // namespace gauntlet::agent
