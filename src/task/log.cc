#include "task/log.h"

#include <sys/stat.h>

#include <ctime>
#include <filesystem>
#include <utility>

namespace jailctl {
namespace {

std::tm utc_tm(std::chrono::system_clock::time_point t) {
    std::time_t secs = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    return tm;
}

}  // namespace

std::string rfc3339_utc(std::chrono::system_clock::time_point t) {
    std::tm tm = utc_tm(t);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() % 1000;
    if (ms < 0) ms += 1000;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
    return buf;
}

std::string file_stamp_utc(std::chrono::system_clock::time_point t) {
    std::tm tm = utc_tm(t);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
    return buf;
}

std::string format_log_line(std::chrono::system_clock::time_point t, std::string_view level,
                            std::string_view step, std::string_view message) {
    std::string line = rfc3339_utc(t);
    line += ' ';
    line += level;
    line.append(level.size() < 5 ? 5 - level.size() : 0, ' ');
    line += " [";
    line += step.empty() ? "task" : step;
    line += "] ";
    // One event, one line: a multi-line message (a program's output) is folded.
    for (char c : message) line += (c == '\n' || c == '\r') ? ' ' : c;
    return line;
}

Result<TaskLog> TaskLog::open(const std::string& log_dir, const std::string& domain, const std::string& verb) {
    std::error_code ec;
    std::filesystem::path dir = std::filesystem::path(log_dir) / domain;
    std::filesystem::create_directories(dir, ec);
    if (ec) return fail("create log directory " + dir.string() + ": " + ec.message());
    ::chmod(dir.c_str(), 0750);
    TaskLog log;
    auto now = std::chrono::system_clock::now();
    std::string base = (dir / (file_stamp_utc(now) + "-" + verb)).string();
    // Two tasks of one jail within a second get distinct files.
    for (int n = 0; n < 100 && !log.file_; ++n) {
        log.path_ = base + (n ? "." + std::to_string(n) : "") + ".log";
        log.file_ = std::fopen(log.path_.c_str(), "wxe");
        if (!log.file_ && errno != EEXIST) return fail_errno("open log file " + log.path_, errno);
    }
    if (!log.file_) return fail("open log file " + base + ".log: too many tasks in one second");
    ::chmod(log.path_.c_str(), 0640);
    return log;
}

TaskLog::TaskLog(TaskLog&& o) noexcept : file_(std::exchange(o.file_, nullptr)), path_(std::move(o.path_)) {}
TaskLog& TaskLog::operator=(TaskLog&& o) noexcept {
    if (this != &o) {
        if (file_) std::fclose(file_);
        file_ = std::exchange(o.file_, nullptr);
        path_ = std::move(o.path_);
    }
    return *this;
}
TaskLog::~TaskLog() {
    if (file_) std::fclose(file_);
}

void TaskLog::write(std::string_view level, std::string_view step, std::string_view message) {
    if (!file_) return;
    std::string line = format_log_line(std::chrono::system_clock::now(), level, step, message);
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), file_);
    std::fflush(file_);
}

}  // namespace jailctl
