// Paging of list replies: a page ends at its row limit or at the byte budget
// of lib/rpc/message_policy.h, whichever comes first, and names where the
// next page starts. Tokens are the id (or plan index) of the last row given
// out, as text: stable under inserts, and a page costs an index seek however
// deep into the list it starts.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <string>
#include <vector>

#include <google/protobuf/repeated_ptr_field.h>

#include "common/status.h"
#include "lib/rpc/message_policy.h"

namespace gauntlet::paging {

inline constexpr int kDefaultJobPage = 1000;
inline constexpr int kMaxJobPage = 10000;
inline constexpr int kDefaultSweepPage = 100;
inline constexpr int kMaxSweepPage = 1000;

inline int PageSize(int requested, int default_size, int max_size) {
  return requested <= 0 ? default_size : std::min(requested, max_size);
}

// 0 for the first page.
inline StatusOr<int64_t> ParseToken(const std::string& token) {
  if (token.empty()) return int64_t{0};
  int64_t value = 0;
  auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), value);
  if (ec != std::errc() || end != token.data() + token.size() || value < 0) {
    return Err(Status::InvalidArgument("page_token '" + token +
                                       "' is not one this coordinator gave out; start again without it"));
  }
  return value;
}

// Moves up to `size` rows (fetched as size + 1, to know whether more exist)
// into `out`, stopping early at the byte budget; sets `next` to the last
// row's id when rows remain.
template <typename Row>
void Fill(std::vector<Row> rows, int size, google::protobuf::RepeatedPtrField<Row>* out, std::string* next,
          size_t max_bytes = rpc::kMaxPageBytes) {
  size_t bytes = 0;
  size_t taken = 0;
  for (auto& row : rows) {
    if (taken == static_cast<size_t>(size)) break;
    const size_t row_bytes = row.ByteSizeLong();
    if (taken > 0 && bytes + row_bytes > max_bytes) break;
    bytes += row_bytes;
    *out->Add() = std::move(row);
    ++taken;
  }
  next->clear();
  if (taken < rows.size()) *next = std::to_string(out->Get(out->size() - 1).id());
}

}  // namespace gauntlet::paging
