// The words of `jailctl --cluster VERB ...` sorted into what the cluster does with them
// (docs/FLEET.md): an API action on the jail's host (api/actions.h), a read answered from
// etcd and the hosts' serves, or a verb that stays on one host, refused with the reason and
// what to do instead. Pure: no etcd, no network (tests/unit/api/cluster_words_test.cc).
#pragma once

#include <string>
#include <vector>

#include "util/result.h"

namespace jailctl {

// The command line without jailctl's global options (--root DIR, --json, --cluster, ...,
// which may follow the verb): the verb and its arguments. "--" and what follows are kept.
std::vector<std::string> verb_words(const std::vector<std::string>& args);

enum class ClusterVerb {
    Action,       // a row of the action table: a task on the jail's host
    Status,       // status [DOMAIN]: the cluster's listing
    AliasList,    // alias list DOMAIN: read from the jail's host
    Credentials,  // credentials DOMAIN: read from the jail's host
    RenewAll,     // renew --all [--days N]: each up host's own renew --all
    Backups,      // backups [DOMAIN]: the jail's host's archives (each up host's without DOMAIN)
    Export,       // export DOMAIN FILE: the host's export stream, written to FILE here
    Exec,         // exec DOMAIN [--user U] [--timeout S] -- CMD...: run there, output shown here
    Console,      // console DOMAIN [--user U]: a shell there, its terminal relayed here
    HostLocal,    // runs on one host only: refused, `advice` says where and why
    Unknown,      // not a verb of jailctl's here
};

struct ClusterWords {
    ClusterVerb kind = ClusterVerb::Unknown;
    std::string verb;                    // "status", "alias list", "exec", ...
    std::vector<std::string> arguments;  // the words after the verb (and its subcommand)
    std::string why;                     // HostLocal: why it stays on one host
};

ClusterWords classify_cluster_words(const std::vector<std::string>& words);

// The one jail a read names (status [DOMAIN], backups [DOMAIN], alias list DOMAIN, credentials DOMAIN), in
// its canonical form; "" when `optional` and none is given. Options and extra words are bad input.
Result<std::string> read_domain(const ClusterWords& w, bool optional);

// The refusal of a host-local verb: why, and what to run instead where (`hosts`: the cluster's).
std::string host_local_refusal(const ClusterWords& w, const std::vector<std::string>& hosts);

}  // namespace jailctl
