#include "init/backoff.h"

namespace jailctl::init {

int64_t backoff_delay_ms(int consecutive_failures) {
    int64_t delay = kFirstBackoffMs;
    for (int i = 1; i < consecutive_failures && delay < kMaxBackoffMs; ++i) delay *= 2;
    return delay < kMaxBackoffMs ? delay : kMaxBackoffMs;
}

int next_failure_count(int previous_failures, int64_t uptime_ms) {
    if (uptime_ms >= kHealthyUptimeMs || previous_failures < 0) return 1;
    // Saturate: the delay is capped long before this, the count only has to stay sane.
    return previous_failures < 1'000'000 ? previous_failures + 1 : previous_failures;
}

}  // namespace jailctl::init
