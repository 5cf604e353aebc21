#include "util/progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace jailctl {
namespace {

// "12.3 MiB" style, one decimal, the unit chosen by the total so both numbers share it.
const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};

int unit_index(uint64_t bytes) {
    int i = 0;
    for (double v = static_cast<double>(bytes); v >= 1024 && i < 4; v /= 1024) ++i;
    return i;
}

std::string scaled(double value, int index) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", value / std::pow(1024.0, index));
    return buf;
}

std::string duration(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0 || seconds > 99 * 3600) return "--:--";
    auto s = static_cast<uint64_t>(seconds + 0.5);
    char buf[32];
    if (s >= 3600)
        std::snprintf(buf, sizeof buf, "%llu:%02llu:%02llu", static_cast<unsigned long long>(s / 3600),
                      static_cast<unsigned long long>(s / 60 % 60), static_cast<unsigned long long>(s % 60));
    else
        std::snprintf(buf, sizeof buf, "%llu:%02llu", static_cast<unsigned long long>(s / 60),
                      static_cast<unsigned long long>(s % 60));
    return buf;
}

int terminal_width() {
    winsize ws{};
    if (::ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20) return ws.ws_col;
    return 80;
}

}  // namespace

std::string progress_line(const std::string& what, uint64_t done, uint64_t total, double elapsed_s,
                          ProgressUnit unit, int width) {
    done = total ? std::min(done, total) : done;
    double fraction = total ? static_cast<double>(done) / static_cast<double>(total) : 0;
    // Under half a second the rate is noise (the first draw would promise hours): not shown yet.
    double rate = elapsed_s >= 0.5 && done > 0 ? static_cast<double>(done) / elapsed_s : 0;
    std::string amount, speed;
    if (unit == ProgressUnit::Bytes) {
        int idx = unit_index(total ? total : done);
        amount = scaled(static_cast<double>(done), idx) + "/" + scaled(static_cast<double>(total), idx) +
                 " " + kUnits[idx];
        speed = rate > 0 ? scaled(rate, unit_index(static_cast<uint64_t>(rate))) + " " +
                               kUnits[unit_index(static_cast<uint64_t>(rate))] + "/s"
                         : "-- B/s";
    } else {
        const char* noun = unit == ProgressUnit::Jails ? "jails" : "steps";
        amount = std::to_string(done) + "/" + std::to_string(total) + " " + noun;
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.1f %s/s", rate, noun);
        speed = rate > 0 ? std::string(buf) : std::string("-- ") + noun + "/s";
    }
    std::string eta =
        "ETA " + (rate > 0 && total ? duration(static_cast<double>(total - done) / rate) : "--:--");
    char pct[8];
    std::snprintf(pct, sizeof pct, "%3d%%", static_cast<int>(fraction * 100));
    std::string tail = std::string(" ") + pct + "  " + amount + "  " + speed + "  " + eta;
    // The bar takes what is left of the width, between 10 and 30 columns; none below that.
    int room = width - static_cast<int>(what.size()) - static_cast<int>(tail.size()) - 3;
    int bar = std::min(room, 30);
    std::string line = what;
    if (bar >= 10) {
        int filled = static_cast<int>(fraction * bar);
        line += " [" + std::string(static_cast<size_t>(filled), '#') +
                std::string(static_cast<size_t>(bar - filled), '-') + "]";
    }
    line += tail;
    if (static_cast<int>(line.size()) > width) line.resize(static_cast<size_t>(std::max(width, 0)));
    return line;
}

bool progress_wanted(bool json) {
    if (json || !::isatty(2)) return false;
    const char* ci = std::getenv("CI");
    if (ci && *ci) return false;
    const char* term = std::getenv("TERM");
    return !(term && std::strcmp(term, "dumb") == 0);
}

Progress::Progress(bool enabled, std::string what, uint64_t total, ProgressUnit unit)
    : on_(enabled && ::isatty(2)),
      what_(std::move(what)),
      total_(total),
      unit_(unit),
      start_(std::chrono::steady_clock::now()) {}

Progress::~Progress() { hide(); }

void Progress::hide() {
    if (on_ && shown_) {
        std::fputs("\r\033[K", stderr);
        std::fflush(stderr);
    }
    shown_ = false;
    last_ = {};
}

void Progress::set(uint64_t done) {
    done_ = done;
    if (!on_) return;
    auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(250) && done_ < total_) return;
    last_ = now;
    draw();
}

void Progress::draw() {
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    std::string line = progress_line(what_, done_, total_, elapsed, unit_, terminal_width() - 1);
    std::fprintf(stderr, "\r\033[K%s", line.c_str());
    std::fflush(stderr);
    shown_ = true;
}

}  // namespace jailctl
