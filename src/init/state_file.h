// The state file of jailctl-init (/run/jailctl/init.json inside the jail), read by the host:
//
//   {"services":[{"name":"nginx","pid":12,"state":"running","restarts":0,"started":1767225600}]}
//
// One line, then a newline. pid is in the jail's pid namespace, 0 unless running; state is
// running|backoff|stopped|waiting (a socket-activated service, service_list.h, waiting for a
// connection); restarts counts starts after the first (never reset; a socket-activated
// service's start after an idle stop is none); started is
// the wall-clock Unix time of the last start, 0 if the service was never started. Services
// appear in the order of the service list. The file is replaced atomically (temp + rename),
// so a reader sees the old or the new content, never a mix. The jail's tenant can write it
// too: readers must treat it as untrusted input.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "init/supervisor.h"
#include "util/result.h"

namespace jailctl::init {

inline constexpr const char* kDefaultStatePath = "/run/jailctl/init.json";

// A JSON string literal with its quotes: escapes " \ and every control character
// (\n \t ... or \u00XX); other bytes, UTF-8 included, pass through unchanged.
std::string json_string(std::string_view text);

// The whole document for these services.
std::string render_state(const std::vector<Service>& services);

// Replaces `path` by `content` atomically (write_file_atomically, without fsync); creates
// missing parent directories with mode 0755. The file gets mode 0644.
Result<void> write_state_file(const std::string& path, std::string_view content);

}  // namespace jailctl::init
