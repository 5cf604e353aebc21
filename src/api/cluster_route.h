// jailctl --cluster VERB ...: the cluster-aware front door (docs/FLEET.md). `create` places the
// jail (or takes --host), claims its domain and address in etcd in one transaction, and runs
// the create on the chosen host through its serve; every other routed verb runs on the
// jail's host. The verb's options are the API's fields (api/actions.h): one table for both
// front doors. Steps are printed as the host reports them; the result and the exit status
// are the host's.
#pragma once

#include <string>
#include <vector>

#include "cli/context.h"

namespace jailctl {

// `args`: the command line after the program name, global options included.
int run_in_cluster(Context& ctx, const std::vector<std::string>& args, const std::string& host);

// One listing of the cluster's jails (`cluster status`, `--cluster status`); with `domain`
// (canonical), that jail only: exit 2 naming `domain` when the cluster has no such jail.
int run_cluster_status(Context& ctx, const std::string& domain);

// jailctl move DOMAIN --to HOST: the jail moves to another host of the cluster (stopped there,
// streamed host to host, imported, started and tested here, the old copy destroyed).
int run_move(Context& ctx, const std::string& domain, const std::string& to);
// jailctl evacuate HOST: every jail of HOST moves to the host placement chooses for it.
int run_evacuate(Context& ctx, const std::string& host);
// jailctl recover HOST: a dead host's jails (its lease expired) restored on the others from
// their latest backup in the backup directory all hosts share (host.conf backup_dir).
int run_recover(Context& ctx, const std::string& host);

}  // namespace jailctl
