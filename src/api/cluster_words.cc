#include "api/cluster_words.h"

#include <algorithm>
#include <iterator>
#include <string_view>
#include <utility>

#include "api/actions.h"
#include "jail/domain.h"
#include "util/text.h"

namespace jailctl {
namespace {

// Global options of jailctl and whether they take a value (they may follow the verb).
constexpr std::pair<const char*, bool> kGlobalOptions[] = {{"--root", true},   {"--log-dir", true},
                                                           {"--uplink", true}, {"--host", true},
                                                           {"--json", false},  {"--cluster", false}};

struct HostLocalVerb {
    const char* verb;
    const char* why;
};

// Verbs that act on the machine that runs them: the host itself.
constexpr HostLocalVerb kHostLocal[] = {
    {"repair", "it finishes or undoes the interrupted tasks of one host's own journal"},
    {"metrics", "it reports the numbers of the host that runs it"},
    {"host", "it checks or prepares the machine that runs it"},
    {"serve", "it is the API of the host that runs it"},
    {"token", "the API tokens are each host's own"},
};

// Verbs that are the cluster's already: --cluster adds nothing to them.
constexpr const char* kClusterOwn[] = {"cluster", "move", "evacuate", "recover"};

}  // namespace

std::vector<std::string> verb_words(const std::vector<std::string>& args) {
    std::vector<std::string> words;
    for (size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--") {
            words.insert(words.end(), args.begin() + static_cast<long>(i), args.end());
            break;
        }
        auto global = std::ranges::find_if(kGlobalOptions, [&](const auto& g) {
            return args[i] == g.first || args[i].starts_with(std::string(g.first) + "=");
        });
        if (global == std::end(kGlobalOptions)) {
            words.push_back(args[i]);
            continue;
        }
        if (global->second && args[i].find('=') == std::string::npos) ++i;  // its value
    }
    return words;
}

ClusterWords classify_cluster_words(const std::vector<std::string>& words) {
    ClusterWords w;
    if (words.empty()) return w;
    const std::string& first = words[0];
    const std::string second = words.size() > 1 ? words[1] : "";
    auto take = [&](ClusterVerb kind, std::string verb, size_t used) {
        w.kind = kind;
        w.verb = std::move(verb);
        w.arguments.assign(words.begin() + static_cast<long>(std::min(used, words.size())), words.end());
        return w;
    };
    if (first == "status") return take(ClusterVerb::Status, first, 1);
    if (first == "alias" && second == "list") return take(ClusterVerb::AliasList, "alias list", 2);
    if (first == "credentials") return take(ClusterVerb::Credentials, first, 1);
    if (first == "backups") return take(ClusterVerb::Backups, first, 1);
    if (first == "export") return take(ClusterVerb::Export, first, 1);
    if (first == "exec") return take(ClusterVerb::Exec, first, 1);
    if (first == "console") return take(ClusterVerb::Console, first, 1);
    if (first == "renew" && std::ranges::find(words, "--all") != words.end()) {
        take(ClusterVerb::RenewAll, "renew --all", 1);
        std::erase(w.arguments, "--all");
        return w;
    }
    for (const auto& spec : api::action_table())
        if (!second.empty() && spec.verb == first + " " + second)
            return take(ClusterVerb::Action, spec.verb, 2);
    for (const auto& spec : api::action_table())
        if (spec.verb == first) return take(ClusterVerb::Action, spec.verb, 1);
    for (const auto& local : kHostLocal)
        if (first == local.verb) {
            take(ClusterVerb::HostLocal, first, 1);
            w.why = local.why;
            return w;
        }
    if (std::ranges::find(kClusterOwn, first) != std::end(kClusterOwn)) {
        take(ClusterVerb::HostLocal, first, 1);
        w.why = "it is a cluster verb already";
        return w;
    }
    return take(ClusterVerb::Unknown, first, 1);
}

Result<std::string> read_domain(const ClusterWords& w, bool optional) {
    std::vector<std::string> positionals;
    bool only_positionals = false;
    for (const auto& a : w.arguments) {
        if (!only_positionals && a == "--")
            only_positionals = true;
        else if (!only_positionals && a.starts_with("-"))
            return fail_input(a.substr(0, a.find('=')).substr(a.starts_with("--") ? 2 : 1),
                              "is not available for " + w.verb + " through the cluster");
        else
            positionals.push_back(a);
    }
    if (positionals.empty()) {
        if (optional) return std::string();
        return fail_input("domain", "is required (" + w.verb + " DOMAIN)");
    }
    if (positionals.size() > 1)
        return fail_input("arguments",
                          "unexpected " + quote_input(positionals[1]) + " (" + w.verb + " names one jail)");
    auto domain = Domain::parse(positionals[0]);
    if (!domain) return std::unexpected(domain.error());
    return domain->str();
}

std::string host_local_refusal(const ClusterWords& w, const std::vector<std::string>& hosts) {
    std::string message = "'" + w.verb + "' does not run through the cluster: " + w.why + "; ";
    if (std::ranges::find(kClusterOwn, w.verb) != std::end(kClusterOwn))
        return message + "run `jailctl " + w.verb + " ...` without --cluster, on any host of the cluster";
    std::string names;
    for (const auto& h : hosts) names += (names.empty() ? "" : ", ") + h;
    if (names.empty()) names = "none joined";
    return message + "run `jailctl " + w.verb + " ...` on the host it is for (hosts: " + names + ")";
}

}  // namespace jailctl
