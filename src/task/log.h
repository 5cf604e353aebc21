// TaskLog: one log file per task, one line per event:
//   2026-11-26T10:15:00.123Z INFO  [mount] attached /dev/loop3
// RFC 3339 UTC with milliseconds and 'Z'. Never give it a password.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>

#include "util/result.h"

namespace jailctl {

// "2026-11-26T10:15:00.123Z"
std::string rfc3339_utc(std::chrono::system_clock::time_point t);
// "20261126T101500Z", for file names (no colons).
std::string file_stamp_utc(std::chrono::system_clock::time_point t);
// One formatted log line, without the newline (pure; unit-tested).
std::string format_log_line(std::chrono::system_clock::time_point t, std::string_view level,
                            std::string_view step, std::string_view message);

class TaskLog {
public:
    TaskLog() = default;  // a log that writes nothing (verbs that change nothing)
    // Opens <dir>/<domain>/<stamp>-<verb>.log for appending (directories created 0750).
    static Result<TaskLog> open(const std::string& log_dir, const std::string& domain, const std::string& verb);
    TaskLog(TaskLog&&) noexcept;
    TaskLog& operator=(TaskLog&&) noexcept;
    ~TaskLog();

    void info(std::string_view step, std::string_view message) { write("INFO", step, message); }
    void warn(std::string_view step, std::string_view message) { write("WARN", step, message); }
    void error(std::string_view step, std::string_view message) { write("ERROR", step, message); }
    void write(std::string_view level, std::string_view step, std::string_view message);
    const std::string& path() const { return path_; }

private:
    std::FILE* file_ = nullptr;
    std::string path_;
};

}  // namespace jailctl
