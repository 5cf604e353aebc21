// Placeholder: the verb is not implemented yet.
#include "cli/verbs.h"

namespace jailctl {

void add_repair(CLI::App&, Context&, Action&) {}

}  // namespace jailctl
