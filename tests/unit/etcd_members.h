// Real etcd members (Debian etcd-server) for the live unit tests: started on loopback ports in
// the caller's network namespace, killed by PID when the object goes. Only run under
// ETCD_LIVE=1, which tests/cluster/etcd_store.sh sets inside the sandbox.
#pragma once

#include <httplib.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace jailctl::testing {

class EtcdMembers {
public:
    // `count` members; member i listens on base_port + 10 i (clients) and + 1 (peers).
    EtcdMembers(int count, int base_port) : count_(count), base_port_(base_port), pids_(count, 0) {
        dir_ = std::filesystem::temp_directory_path() /
               ("jailctl-etcd-" + std::to_string(getpid()) + "-" + std::to_string(base_port));
        std::filesystem::create_directories(dir_);
    }
    ~EtcdMembers() {
        for (int i = 0; i < count_; ++i) stop(i);
        std::filesystem::remove_all(dir_);
    }
    EtcdMembers(const EtcdMembers&) = delete;
    EtcdMembers& operator=(const EtcdMembers&) = delete;

    int count() const { return count_; }
    std::string client_url(int i) const { return "http://127.0.0.1:" + std::to_string(base_port_ + 10 * i); }
    std::vector<std::string> client_urls() const {
        std::vector<std::string> urls;
        for (int i = 0; i < count_; ++i) urls.push_back(client_url(i));
        return urls;
    }
    // state: "new" for the first start, "existing" for a member started again.
    bool start(int i, const std::string& state) {
        std::string cluster;
        for (int m = 0; m < count_; ++m) cluster += (m ? "," : "") + ("m" + std::to_string(m)) + "=" + peer_url(m);
        std::vector<std::string> args = {"etcd", "--name", "m" + std::to_string(i),
                                         "--data-dir", (dir_ / ("m" + std::to_string(i))).string(),
                                         "--listen-client-urls", client_url(i), "--advertise-client-urls", client_url(i),
                                         "--listen-peer-urls", peer_url(i), "--initial-advertise-peer-urls", peer_url(i),
                                         "--initial-cluster", cluster, "--initial-cluster-state", state,
                                         "--initial-cluster-token", "jailctl-test",
                                         "--logger", "zap", "--log-outputs", (dir_ / ("m" + std::to_string(i) + ".log")).string()};
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
        int rc = posix_spawnp(&pids_[i], "etcd", &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        return rc == 0;
    }
    bool start_all() {
        for (int i = 0; i < count_; ++i)
            if (!start(i, "new")) return false;
        for (int i = 0; i < count_; ++i)
            if (!healthy(i)) return false;
        return true;
    }
    void stop(int i) {  // SIGKILL: a member lost, not one shut down
        if (pids_[i] <= 0) return;
        ::kill(pids_[i], SIGKILL);
        ::waitpid(pids_[i], nullptr, 0);
        pids_[i] = 0;
    }
    bool healthy(int i) const {
        for (int tries = 0; tries < 100; ++tries) {
            httplib::Client c(client_url(i));
            c.set_connection_timeout(std::chrono::milliseconds(200));
            auto r = c.Get("/health");
            if (r && r->status == 200 && r->body.find("\"true\"") != std::string::npos) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        return false;
    }
    // The member that is the raft leader now, asked to every member (-1: none answers).
    int leader() const {
        for (int i = 0; i < count_; ++i) {
            httplib::Client c(client_url(i));
            c.set_connection_timeout(std::chrono::milliseconds(200));
            auto r = c.Post("/v3/maintenance/status", "{}", "application/json");
            if (!r || r->status != 200) continue;
            auto j = nlohmann::json::parse(r->body, nullptr, false);
            if (j.is_discarded()) continue;
            std::string self = j["header"].value("member_id", ""), lead = j.value("leader", "");
            if (lead.empty()) continue;
            if (self == lead) return i;
        }
        return -1;
    }

private:
    std::string peer_url(int i) const { return "http://127.0.0.1:" + std::to_string(base_port_ + 1 + 10 * i); }
    int count_, base_port_;
    std::filesystem::path dir_;
    std::vector<pid_t> pids_;
};

}  // namespace jailctl::testing
