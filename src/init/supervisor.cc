#include "init/supervisor.h"

#include <algorithm>
#include <utility>

#include "init/backoff.h"

namespace jailctl::init {

std::string_view state_name(ServiceState state) {
    switch (state) {
        case ServiceState::Running:
            return "running";
        case ServiceState::Backoff:
            return "backoff";
        case ServiceState::Stopped:
            return "stopped";
        case ServiceState::Waiting:
            return "waiting";
    }
    return "?";
}

Supervisor::Supervisor(std::vector<ServiceSpec> specs) {
    services_.reserve(specs.size());
    for (auto& spec : specs) {
        const bool activated = spec.socket.has_value();
        services_.push_back(Service{.spec = std::move(spec), .state = activated ? ServiceState::Waiting : ServiceState::Backoff});
    }
}

std::vector<std::size_t> Supervisor::due(int64_t now_ms) const {
    std::vector<std::size_t> result;
    if (stopping_) return result;
    for (std::size_t i = 0; i < services_.size(); ++i) {
        const auto& s = services_[i];
        if (s.state == ServiceState::Backoff && s.restart_at_ms <= now_ms) result.push_back(i);
    }
    return result;
}

void Supervisor::on_started(std::size_t index, pid_t pid, Now now) {
    auto& s = services_.at(index);
    if (s.ever_started && !s.idle_stopped) ++s.restarts;  // an idle site's next visitor is no restart
    s.idle_stopped = false;
    s.ever_started = true;
    s.state = ServiceState::Running;
    s.pid = pid;
    s.started_unix = now.unix_s;
    s.started_mono_ms = now.mono_ms;
    s.busy_mono_ms = now.mono_ms;
    s.idle_stopping = false;
    ++generation_;
}

void Supervisor::on_start_failed(std::size_t index, int64_t now_ms) {
    auto& s = services_.at(index);
    s.failures = next_failure_count(s.failures, 0);
    s.restart_at_ms = now_ms + backoff_delay_ms(s.failures);
}

std::optional<std::size_t> Supervisor::on_exit(pid_t pid, int64_t now_ms) {
    auto it = std::find_if(services_.begin(), services_.end(), [pid](const Service& s) {
        return s.state == ServiceState::Running && s.pid == pid;
    });
    if (it == services_.end()) return std::nullopt;
    it->pid = 0;
    if (stopping_) {
        it->state = ServiceState::Stopped;
    } else if (it->spec.socket) {
        it->state = ServiceState::Waiting;
        it->failures = it->idle_stopping ? 0 : next_failure_count(it->failures, now_ms - it->started_mono_ms);
        it->restart_at_ms = it->idle_stopping ? now_ms : now_ms + backoff_delay_ms(it->failures);
        it->idle_stopped = it->idle_stopping;
        it->idle_stopping = false;
    } else {
        it->state = ServiceState::Backoff;
        it->failures = next_failure_count(it->failures, now_ms - it->started_mono_ms);
        it->restart_at_ms = now_ms + backoff_delay_ms(it->failures);
    }
    ++generation_;
    return static_cast<std::size_t>(it - services_.begin());
}

std::vector<std::size_t> Supervisor::begin_stop(int64_t now_ms, int64_t grace_ms) {
    std::vector<std::size_t> running;
    if (stopping_) return running;
    stopping_ = true;
    grace_deadline_ms_ = now_ms + std::max<int64_t>(grace_ms, 0);
    for (std::size_t i = 0; i < services_.size(); ++i) {
        auto& s = services_[i];
        if (s.state == ServiceState::Running) {
            running.push_back(i);
        } else if (s.state == ServiceState::Backoff || s.state == ServiceState::Waiting) {
            s.state = ServiceState::Stopped;
            ++generation_;
        }
    }
    return running;
}

bool Supervisor::none_running() const {
    return std::none_of(services_.begin(), services_.end(),
                        [](const Service& s) { return s.state == ServiceState::Running; });
}

std::optional<int64_t> Supervisor::next_wakeup_ms(int64_t now_ms) const {
    if (stopping_) return grace_deadline_ms_;
    std::optional<int64_t> earliest;
    for (const auto& s : services_) {
        const bool timed = s.state == ServiceState::Backoff || (s.state == ServiceState::Waiting && s.restart_at_ms > now_ms);
        if (timed && (!earliest || s.restart_at_ms < *earliest)) earliest = s.restart_at_ms;
    }
    return earliest;
}

bool Supervisor::accepts_connection(std::size_t index, int64_t now_ms) const {
    const auto& s = services_.at(index);
    return !stopping_ && s.state == ServiceState::Waiting && s.restart_at_ms <= now_ms;
}

void Supervisor::run_without_socket(std::size_t index) {
    auto& s = services_.at(index);
    s.spec.socket.reset();
    if (s.state == ServiceState::Waiting) s.state = ServiceState::Backoff;
    s.restart_at_ms = 0;
    ++generation_;
}

void Supervisor::on_connection(std::size_t index, int64_t now_ms) {
    if (!accepts_connection(index, now_ms)) return;
    auto& s = services_[index];
    s.state = ServiceState::Backoff;
    s.restart_at_ms = now_ms;
    ++generation_;
}

void Supervisor::on_busy(std::size_t index, int64_t now_ms) { services_.at(index).busy_mono_ms = now_ms; }

std::vector<std::size_t> Supervisor::idle_due(int64_t now_ms) const {
    std::vector<std::size_t> result;
    if (stopping_) return result;
    for (std::size_t i = 0; i < services_.size(); ++i) {
        const auto& s = services_[i];
        if (watched_for_idleness(s) && now_ms - s.busy_mono_ms >= s.spec.socket->idle_stop_ms)
            result.push_back(i);
    }
    return result;
}

void Supervisor::on_idle_stop(std::size_t index) { services_.at(index).idle_stopping = true; }

bool Supervisor::watches_idleness() const {
    return !stopping_ && std::any_of(services_.begin(), services_.end(), watched_for_idleness);
}

}  // namespace jailctl::init
