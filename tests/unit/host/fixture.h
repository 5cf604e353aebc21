// What the host unit tests share: a private mount namespace for the tests that mount, a
// temporary directory per test, the check that no loop device was left behind, a file's text.
#pragma once

#include <gtest/gtest.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "host/loop.h"

namespace jailctl::test {

inline constexpr uint64_t MiB = 1024 * 1024;
inline constexpr uint32_t kJailRoot = 231072;  // a jail's root in its host id range

// Root-only tests mount things: they run in a private mount namespace of this test process, so
// nothing reaches the host and every mount dies with the process. Entered once per process (the
// marker holds our pid, so a child or a later run does not inherit it). "" when entered, else
// why the test must be skipped; `loop_devices` also asks for a usable /dev/loop-control.
inline std::string enter_private_mount_namespace(bool loop_devices = true) {
    if (::geteuid() != 0) return "needs root";
    if (loop_devices && ::access("/dev/loop-control", R_OK | W_OK) != 0) return "no usable /dev/loop-control";
    const std::string me = std::to_string(::getpid());
    if (const char* done = ::getenv("JAILCTL_TEST_PRIVATE_MNTNS"); done && me == done) return {};
    if (::unshare(CLONE_NEWNS) != 0) return std::string("unshare(CLONE_NEWNS): ") + std::strerror(errno);
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
        return std::string("make / private: ") + std::strerror(errno);
    ::setenv("JAILCTL_TEST_PRIVATE_MNTNS", me.c_str(), 1);
    return {};
}

// Autoclear may complete just after the last close returns: true once `image` has no loop
// device, within a second.
inline bool no_loops_for(const std::string& image) {
    for (int i = 0; i < 100; ++i) {
        auto loops = find_loops_for(image);
        if (loops && loops->empty()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

// A loop device left on `image` fails the test, and is detached.
inline void detach_leftover_loops(const std::string& image) {
    if (no_loops_for(image)) return;
    if (auto loops = find_loops_for(image))
        for (const auto& loop : *loops) {
            ADD_FAILURE() << "leftover " << loop.device << " for " << image;
            (void)detach_loop(loop.device);
        }
}

inline std::string read_file(const std::string& path) {
    std::stringstream s;
    s << std::ifstream(path).rdbuf();
    return s.str();
}

// A test with its own directory dir_ (mkdtemp of `prefix` + "XXXXXX"), removed afterwards
// whatever happened. A fixture that overrides SetUp/TearDown calls these.
class TempDirTest : public ::testing::Test {
protected:
    explicit TempDirTest(std::string prefix) : prefix_(std::move(prefix)) {}
    void SetUp() override {
        std::string tmpl = prefix_ + "XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr) << tmpl << ": " << std::strerror(errno);
        dir_ = tmpl;
    }
    void TearDown() override {
        if (dir_.empty()) return;
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    std::string dir_;

private:
    std::string prefix_;
};

}  // namespace jailctl::test
