// The customer's logs, capped: jailctl-init checks their sizes every kLogCheckMs and rotates a
// log that has grown past its cap (path -> path.1, replacing the previous .1; a new empty file
// with the old one's owner and mode), then sends the service that writes it the signal that makes
// it reopen its logs (nginx and php-fpm: USR1). A log thus takes at most twice its cap plus
// what is written between two checks, so the logs never fill the jail's disk.
//
// File format (/etc/jailctl/logs, beside the service list), one log per line, words as in
// service_list.h, '#' comments:
//
//     <absolute path> <cap in bytes> <service name> <signal>
//     /srv/site/logs/access.log 1048576 nginx USR1
//
// A missing file means no capped logs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace jailctl::init {

inline constexpr int64_t kLogCheckMs = 10'000;

struct CappedLog {
    std::string path;
    uint64_t cap_bytes = 0;
    std::string service;  // the service list's name of its writer
    int signal = 0;       // what makes the writer reopen it
};

// Errors read "<source>:<line>: <reason>" (kind BadInput).
Result<std::vector<CappedLog>> parse_log_list(std::string_view text, std::string_view source);
// Reads and parses the file; a missing file is an empty list.
Result<std::vector<CappedLog>> load_log_list(const std::string& path);

struct Rotation {
    std::vector<std::string> services;  // whom to signal, each once, in list order
    std::vector<std::string> messages;  // what was rotated, or why it could not be
};
// Rotates every regular file of `logs` larger than its cap (symlinks and other files are left).
Rotation rotate_full_logs(const std::vector<CappedLog>& logs);

}  // namespace jailctl::init
