// Finding the jail a command names, and holding it for one task.
#include "cli/verbs.h"
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

std::expected<LockedJail, LockRefusal> locked_jail(Context& ctx, const std::string& domain_input) {
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
    return LockedJail{**fresh, std::move(*lock)};
}

int report_error(const Context& ctx, const LockRefusal& refusal) {
    return report_error(ctx, refusal.step, refusal.error);
}

}  // namespace jailctl
