// Loop devices for jail images: ioctls on /dev/loop-control and /dev/loopN only (no losetup).
//
// Every device is attached with LO_FLAGS_AUTOCLEAR: it detaches itself when its last opener goes
// away. While a LoopDevice is alive it holds one opener; mount the device, let the LoopDevice go,
// and the device lives exactly as long as the mount. Without a mount, destroying the LoopDevice
// detaches it.
#pragma once

#include <string>
#include <vector>

#include "util/fd.h"
#include "util/result.h"

namespace jailctl {

class LoopDevice {
public:
    // Attaches `image` (a regular file, never followed through a symlink) to a free loop device.
    // Refuses (Conflict) when the image is already attached somewhere: two writers on one ext4
    // image corrupt it. Retries when another process takes the free device first.
    static Result<LoopDevice> attach(const std::string& image, bool read_only = false);

    LoopDevice(LoopDevice&&) noexcept = default;
    LoopDevice& operator=(LoopDevice&&) noexcept = default;
    LoopDevice(const LoopDevice&) = delete;
    LoopDevice& operator=(const LoopDevice&) = delete;
    ~LoopDevice() = default;  // closing the fd detaches an unmounted device (autoclear)

    const std::string& path() const { return path_; }  // "/dev/loop7"
    int number() const { return number_; }
    bool direct_io() const { return direct_io_; }  // the kernel accepted LO_FLAGS_DIRECT_IO

    // LOOP_SET_CAPACITY: the device picks up the new size after the backing file grew.
    Result<void> set_capacity();
    // LOOP_CLR_FD now. While the device is still mounted the kernel defers the detach to the
    // last close (it sets autoclear), so this succeeds then too.
    Result<void> detach();

private:
    LoopDevice(Fd fd, std::string path, int number, bool direct_io)
        : fd_(std::move(fd)), path_(std::move(path)), number_(number), direct_io_(direct_io) {}
    Fd fd_;
    std::string path_;
    int number_ = -1;
    bool direct_io_ = false;
};

struct LoopInfo {
    std::string device;        // "/dev/loop7"
    std::string backing_file;  // as the kernel reports it (may end in " (deleted)")
    bool autoclear = false;
};

// All loop devices whose backing file is `image` (same path, or same inode when the image still
// exists), from /sys/block/loop*/loop/. Used by repair and destroy to find leftovers even when
// the journal is incomplete.
Result<std::vector<LoopInfo>> find_loops_for(const std::string& image);

// LOOP_CLR_FD on `device` ("/dev/loopN"). Not attached: OK (idempotent). While the device is
// still open elsewhere (mounted) the kernel only marks it autoclear: it goes at the last close.
Result<void> detach_loop(const std::string& device);

// LOOP_SET_CAPACITY on an attached device held by someone else (the running jail's mount).
Result<void> set_loop_capacity(const std::string& device);

}  // namespace jailctl
