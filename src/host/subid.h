// Root's subordinate id ranges (/etc/subuid, /etc/subgid). LXC maps a jail's ids
// through newuidmap/newgidmap, which only allow ranges declared there, so
// `host prepare` declares one block that covers every jail's range.
#pragma once

#include <cstdint>
#include <string>

#include "util/result.h"

namespace jailctl {

inline constexpr const char* kSubuidFile = "/etc/subuid";
inline constexpr const char* kSubgidFile = "/etc/subgid";

// Does `text` (the file's content) give `user` (name or numeric uid) the ids [start, start+count)?
bool subid_range_covered(const std::string& text, const std::string& user, uint64_t start, uint64_t count);
// Another user's range overlapping [start, start+count): "alice:1073800000:65536", or "".
std::string subid_range_conflict(const std::string& text, const std::string& user, uint64_t start, uint64_t count);

Result<bool> subid_declared(const std::string& file, uint64_t start, uint64_t count);
// Appends "root:<start>:<count>" unless already covered; refuses when another user's
// range overlaps. Appends in place (the file may be a bind mount).
Result<void> declare_subid_range(const std::string& file, uint64_t start, uint64_t count);

}  // namespace jailctl
