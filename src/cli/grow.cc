// jailctl grow DOMAIN --size NEWSIZE [--offline]: enlarge a jail's disk.
//
// Paths, in order of preference:
//   online   the jail keeps running: grow the image file, LOOP_SET_CAPACITY on its loop device,
//            resize2fs on the mounted filesystem. Needs CAP_SYS_RESOURCE (ext4 online resize);
//            without it, or when the kernel refuses with EPERM, the fallback runs.
//   fallback stop, grow the image, e2fsck -f + resize2fs offline, start. The downtime (stop begins
//            -> services answer again) is measured, logged and reported.
//   offline  the jail was stopped already: grow and resize, leave it stopped.
// Which path ran (and why the online one did not) is in the output and in --json ("path").
// Shrinking, or the same size, is refused (exit 2). A failure after the stop starts the jail
// again (the undo of the stop step); an image grown but not resized stays larger (harmless:
// the next grow resizes into it), and the registry keeps the old size until the grow succeeded.
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <memory>

#include "cli/jail_ops.h"
#include "cli/verbs.h"
#include "host/ext4.h"
#include "host/image.h"
#include "host/loop.h"
#include "host/lxc.h"
#include "host/mount.h"
#include "host/network.h"
#include "jail/byte_size.h"

namespace jailctl {
namespace {

struct GrowArgs {
    std::string domain, size;
    bool offline = false;
};

struct GrowState {
    std::string path;           // "online" | "fallback" | "offline"
    std::string online_skipped; // why the online path did not run (empty when it ran)
    Restart restart;  // the fallback path's
};

// Size of the mounted filesystem as `df` reports it (f_blocks * f_frsize).
std::optional<uint64_t> filesystem_bytes(const std::string& mount_point) {
    struct statvfs vfs {};
    if (::statvfs(mount_point.c_str(), &vfs) != 0) return std::nullopt;
    return static_cast<uint64_t>(vfs.f_blocks) * vfs.f_frsize;
}

Step grow_image_step(JailSteps& jail, uint64_t bytes) {
    return {"grow-image", [&jail, bytes]() {
                return grow_image(jail.paths().image(jail.domain()), bytes, jail.plan.rec.sparse);
            }};
}

Step record_size_step(JailSteps& jail, uint64_t new_bytes) {
    const uint64_t old_bytes = jail.plan.rec.size_bytes;
    return {"record-size",
            [&jail, new_bytes]() { return jail.ctx.registry().set_size(jail.domain(), new_bytes); },
            [&jail, old_bytes]() { return jail.ctx.registry().set_size(jail.domain(), old_bytes); }};
}

// Online grow as one step: it either grows the running filesystem or reports (through
// `refused`) that the kernel does not allow it here, without failing the task.
Step online_step(JailSteps& jail, uint64_t bytes, GrowState& state) {
    return {"grow-online", [&jail, bytes, &state]() -> Result<void> {
                auto mount = find_mount(jail.paths().rootfs(jail.domain()));
                if (!mount) return std::unexpected(mount.error());
                if (!*mount || !(*mount)->source.starts_with("/dev/loop"))
                    return fail(jail.paths().rootfs(jail.domain()) + " is not mounted from a loop device");
                const std::string device = (*mount)->source;
                if (auto r = grow_image(jail.paths().image(jail.domain()), bytes, jail.plan.rec.sparse); !r) return r;
                if (auto r = set_loop_capacity(device); !r) return r;
                auto resized = resize_ext4_online(device);
                if (resized) {
                    state.path = "online";
                    // Recorded in this step: no kill point between the resize and the record.
                    return jail.ctx.registry().set_size(jail.domain(), bytes);
                }
                if (!online_resize_not_permitted(resized.error())) return resized;
                state.online_skipped = "the kernel refused the online resize (EPERM)";
                return {};
            }};
}

void add_offline_steps(JailSteps& jail, std::vector<Step>& steps, uint64_t bytes, bool was_running, bool mounted,
                       GrowState& state) {
    if (was_running) {
        steps.push_back(state.restart.stop(jail));
        steps.push_back(jail.cleanup_network());
    }
    if (was_running || mounted) steps.push_back(jail.unmount_disk());
    steps.push_back(grow_image_step(jail, bytes));
    steps.push_back({"resize-offline", [&jail]() { return resize_ext4_offline(jail.paths().image(jail.domain())); }});
    steps.push_back(record_size_step(jail, bytes));  // before the start: a kill after the resize keeps the size
    if (was_running)
        for (auto& step : state.restart.start(jail)) steps.push_back(step);
}

Result<uint64_t> validate_size(Context& ctx, const JailRecord& rec, const std::string& input) {
    auto size = ByteSize::parse_disk(input, "size");
    if (!size) return std::unexpected(size.error());
    if (size->bytes() <= rec.size_bytes)
        return fail_input("size", size->human() + (size->bytes() == rec.size_bytes ? " is the current size" :
                                                   " is smaller than the current " + human_bytes(rec.size_bytes)) +
                                      " of " + rec.domain + ": jailctl only grows disks (shrinking is refused)");
    if (!rec.sparse) {
        auto free = free_bytes(ctx.paths.lxcpath);
        if (!free) return std::unexpected(free.error());
        if (*free < size->bytes() - rec.size_bytes)
            return fail_input("size", "growing by " + human_bytes(size->bytes() - rec.size_bytes) + " needs more than the " +
                                          human_bytes(*free) + " free in " + ctx.paths.lxcpath);
    }
    return size->bytes();
}

int run_grow(Context& ctx, const GrowArgs& args) {
    auto locked = locked_jail(ctx, args.domain);  // the size as of now, under the lock
    if (!locked) return report_error(ctx, locked.error());
    const JailRecord& rec = locked->rec;
    if (rec.state != "ready")
        return report_error(ctx, "validate", Error{ErrorKind::HostNotReady, rec.domain + " is in state " + rec.state +
                                                                                ": run 'jailctl repair " + rec.domain + "'"});
    auto bytes = validate_size(ctx, rec, args.size);
    if (!bytes) return report_error(ctx, "validate", bytes.error());
    const bool running = lxc_running(ctx.paths.lxcpath, rec.domain);
    auto mounted = find_mount(ctx.paths.rootfs(rec.domain));
    if (!mounted) return report_error(ctx, "validate", mounted.error());

    auto plan = plan_for(ctx, rec, running);  // the fallback starts it again
    if (!plan) return report_error(ctx, "validate", plan.error());
    JailSteps jail{ctx, *plan};
    GrowState state;
    auto log = open_task_log(ctx, rec.domain, "grow");
    if (!log) return report_error(ctx, "log", log.error());

    TaskOutcome outcome;
    std::vector<StepRecord> all_steps;
    bool try_online = running;
    if (!running) {
        state.online_skipped = "the jail is stopped";
    } else if (args.offline) {
        state.online_skipped = "--offline was given";
        try_online = false;
    } else if (!has_cap_sys_resource()) {
        state.online_skipped = "jailctl lacks CAP_SYS_RESOURCE (ext4 online resize needs it)";
        try_online = false;
    }
    if (try_online) {
        outcome = run_journaled(ctx, *log, rec.domain, "grow", {online_step(jail, *bytes, state)});
        all_steps = outcome.steps;
    }
    if (state.path != "online" && (!try_online || outcome.ok)) {
        if (try_online) log->warn("grow-online", state.online_skipped + ": falling back to stop, grow, start");
        state.path = running ? "fallback" : "offline";
        std::vector<Step> steps;
        add_offline_steps(jail, steps, *bytes, running, mounted->has_value(), state);
        // "grow-fallback" in the journal: repair starts the jail again after a kill (see finish_interrupted_grow).
        outcome = run_journaled(ctx, *log, rec.domain, running ? "grow-fallback" : "grow", steps);
        all_steps.insert(all_steps.end(), outcome.steps.begin(), outcome.steps.end());
    }
    outcome.steps = all_steps;

    nlohmann::json fields = {{"domain", rec.domain},
                             {"path", state.path},
                             {"old_size_bytes", rec.size_bytes},
                             {"size_bytes", *bytes}};
    std::vector<std::string> text = {"domain:    " + rec.domain,
                                     "disk:      " + human_bytes(rec.size_bytes) + " -> " + human_bytes(*bytes)};
    std::string path_line = "path:      " + state.path;
    if (!state.online_skipped.empty()) {
        fields["online_skipped"] = state.online_skipped;
        path_line += " (online not used: " + state.online_skipped + ")";
    }
    text.push_back(path_line);
    log->info("grow", path_line.substr(11));
    if (outcome.ok && state.path == "fallback") state.restart.report_downtime(*log, fields, text);
    if (outcome.ok && (running || state.path == "online")) {
        if (auto fs = filesystem_bytes(ctx.paths.rootfs(rec.domain))) {
            fields["filesystem_bytes"] = *fs;
            text.push_back("filesystem: " + human_bytes(*fs) + " (as df sees it)");
        }
    }
    return report(ctx, outcome, fields, text, log->path());
}

}  // namespace

// After a grow was killed while the jail was stopped (repair.cc runs these under the jail's lock):
// an image found larger than the registry's size is the grow's own work, so the grow is finished
// (e2fsck + resize2fs offline, both no-ops when done already, then the size recorded); an image of
// the recorded size had not been touched. The fallback path (`restart`) found the jail running:
// it is started again. (A killed grow that left the jail running needs nothing: the online step
// records the size itself, and an image grown but not yet resized is harmless, see the top.)
std::vector<Step> finish_interrupted_grow(JailSteps& jail, bool restart) {
    std::vector<Step> steps{jail.cleanup_network(), jail.unmount_disk()};
    steps.push_back({"finish-grow", [&jail]() -> Result<void> {
                         const std::string image = jail.paths().image(jail.domain());
                         struct stat st {};
                         if (::stat(image.c_str(), &st) != 0) return fail_errno("stat " + image, errno);
                         const auto bytes = static_cast<uint64_t>(st.st_size);
                         if (bytes <= jail.plan.rec.size_bytes) return {};
                         if (auto r = resize_ext4_offline(image); !r) return r;
                         if (auto r = jail.ctx.registry().set_size(jail.domain(), bytes); !r) return r;
                         jail.plan.rec.size_bytes = bytes;
                         return {};
                     }});
    if (restart)
        for (auto& s : jail.start_from_disk()) steps.push_back(s);
    return steps;
}

void add_grow(CLI::App& app, Context& ctx, Action& action) {
    auto [cmd, args] = add_command<GrowArgs>(app, ctx, action, "grow",
                                             "Enlarge a jail's disk (online where the kernel allows it)", run_grow);
    cmd->add_option("domain", args->domain, "The jail")->required();
    cmd->add_option("--size", args->size, "The new disk size, larger than the current one (e.g. 1G; " JAILCTL_SIZE_UNITS ")")->required();
    cmd->add_flag("--offline", args->offline, "Stop, grow, start even where an online grow is possible");
}

}  // namespace jailctl
