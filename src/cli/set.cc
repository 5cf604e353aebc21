// Placeholder: the verb is not implemented yet.
#include "cli/verbs.h"

namespace jailctl {

void add_set(CLI::App&, Context&, Action&) {}

}  // namespace jailctl
