// Finding the jail a command names, and holding it for one task.
#include <sys/stat.h>

#include <cerrno>

#include "cli/verbs.h"
#include "host/lxc.h"
#include "jail/domain.h"

namespace jailctl {

Result<JailRecord> find_jail(Context& ctx, const std::string& domain_input) {
    auto domain = Domain::parse(domain_input);
    if (!domain) return std::unexpected(domain.error());
    if (auto r = ctx.open(); !r) return std::unexpected(r.error());
    auto rec = ctx.registry().find(domain->str());
    if (!rec) return std::unexpected(rec.error());
    if (!*rec) return fail_input("domain", domain->str() + " is not a jail on this host (see 'jailctl status')");
    if (!needs_repair(ctx, **rec)) return **rec;
    auto lock = lock_jail(ctx.paths, domain->str());
    if (!lock) return std::unexpected(lock.error());
    rec = ctx.registry().find(domain->str());  // re-read under the lock
    if (rec && *rec && needs_repair(ctx, **rec)) {
        if (repair_jail(ctx, **rec, true) != 0)
            return fail("repair of the interrupted task on " + domain->str() + " failed: see 'jailctl status'");
        rec = ctx.registry().find(domain->str());
    }
    if (!rec) return std::unexpected(rec.error());
    if (!*rec)
        return fail_input("domain", domain->str() + " is not a jail any more: repair undid its interrupted create "
                                                     "or finished its interrupted destroy");
    return **rec;
}

Result<void> require_disk(const Context& ctx, const JailRecord& rec) {
    const std::string image = ctx.paths.image(rec.domain);
    struct stat st {};
    if (::stat(image.c_str(), &st) == 0) return {};
    if (errno != ENOENT) return fail_errno("stat " + image, errno);
    const std::string what = rec.domain + ": its disk image " + image + " is missing (moved or deleted outside jailctl); ";
    if (lxc_running(ctx.paths.lxcpath, rec.domain))
        return fail(ErrorKind::Conflict,
                    what + "the running jail still holds the deleted file through its loop device ('losetup -l' "
                           "shows it): copy that device back to " + image + " before anything stops the jail");
    return fail(ErrorKind::Conflict, what + "put it back, or remove the jail ('jailctl destroy " + rec.domain +
                                         "') and restore its last backup ('jailctl restore FILE')");
}

std::expected<LockedJail, LockRefusal> locked_jail(Context& ctx, const std::string& domain_input, DiskNeed disk) {
    auto rec = find_jail(ctx, domain_input);
    if (!rec) return std::unexpected(LockRefusal{"validate", rec.error()});
    auto lock = lock_jail(ctx.paths, rec->domain);
    if (!lock) return std::unexpected(LockRefusal{"lock", lock.error(), true});
    auto fresh = ctx.registry().find(rec->domain);
    if (!fresh) return std::unexpected(LockRefusal{"validate", fresh.error(), true});
    if (!*fresh)
        return std::unexpected(LockRefusal{
            "validate", fail_input("domain", rec->domain + " is not a jail on this host any more (destroyed meanwhile)").error(),
            true});
    if (disk == DiskNeed::Required && (*fresh)->state != "creating" && (*fresh)->state != "destroying")
        if (auto r = require_disk(ctx, **fresh); !r) return std::unexpected(LockRefusal{"validate", r.error(), true});
    return LockedJail{**fresh, std::move(*lock)};
}

int report_error(const Context& ctx, const LockRefusal& refusal) {
    return report_error(ctx, refusal.step, refusal.error);
}

}  // namespace jailctl
