// Progress of a long operation on the operator's terminal: one line on stderr, redrawn at
// most every 0.25 s — a bar, done / total, rate and ETA — and erased at the end. Shown only
// when stderr is a TTY, the output is not --json, $CI is unset and $TERM is not "dumb":
// logs, pipes and scripts never see it.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>

namespace jailctl {

enum class ProgressUnit { Bytes, Jails, Steps };

// The line for `done` of `total` after `elapsed_s` seconds, at most `width` columns, e.g.
// "backup [########--------]  50%  64.0/128.0 MiB  12.8 MiB/s  ETA 0:05" (pure; unit-tested).
// The rate and ETA show once something was done and half a second passed; "--" until then.
std::string progress_line(const std::string& what, uint64_t done, uint64_t total, double elapsed_s,
                          ProgressUnit unit, int width = 80);

// Whether a progress line belongs on stderr now (TTY, no --json, not CI, not a dumb terminal).
bool progress_wanted(bool json);

class Progress {
public:
    // `enabled`: the caller's wish (progress_wanted(json)); a non-TTY stderr turns it off anyway.
    Progress(bool enabled, std::string what, uint64_t total, ProgressUnit unit = ProgressUnit::Bytes);
    ~Progress();  // erases the line
    Progress(const Progress&) = delete;
    Progress& operator=(const Progress&) = delete;
    void add(uint64_t n) { set(done_ + n); }
    void set(uint64_t done);
    void set_total(uint64_t total) { total_ = total; }
    void set_label(std::string what) { what_ = std::move(what); }
    bool shown() const { return shown_; }
    // Erases the line so other output can be printed; the next set() draws it again.
    void hide();

private:
    void draw();
    bool on_, shown_ = false;
    std::string what_;
    uint64_t total_, done_ = 0;
    ProgressUnit unit_;
    std::chrono::steady_clock::time_point start_, last_{};
};

}  // namespace jailctl
