// Restart backoff of a crashing service: 100 ms, doubling, capped at 30 s; a service that
// stayed up for 60 s is considered healthy again and its next crash restarts after 100 ms.
#pragma once

#include <cstdint>

namespace jailctl::init {

inline constexpr int64_t kFirstBackoffMs = 100;
inline constexpr int64_t kMaxBackoffMs = 30'000;
inline constexpr int64_t kHealthyUptimeMs = 60'000;

// Delay before the restart that follows the n-th consecutive failure (n >= 1):
// 1 -> 100, 2 -> 200, 3 -> 400, ... capped at kMaxBackoffMs. n <= 0 is treated as 1.
int64_t backoff_delay_ms(int consecutive_failures);

// Consecutive failures after an exit following `uptime_ms` of running: a long enough run
// resets the count, so the result is 1 after a healthy run, previous + 1 otherwise.
int next_failure_count(int previous_failures, int64_t uptime_ms);

}  // namespace jailctl::init
