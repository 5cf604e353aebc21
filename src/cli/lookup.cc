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
    return **rec;
}

}  // namespace jailctl
