// The backups listing (`jailctl backups [DOMAIN]`), shared with serve (GET /jails/{d}/backups,
// GET /backups) and `jailctl --cluster backups`, which prints a host's rows as the verb does.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "cli/context.h"

namespace jailctl {

// What `backups [DOMAIN] --json` lists under "backups": the archives of the backup directory,
// every domain's when `only` is "" (else `only`, canonical), sorted by domain, then time.
nlohmann::json backup_objects(const Paths& paths, const std::string& only);
// Those rows as `backups` prints them: a header line, then one line per archive.
std::string backups_text(const nlohmann::json& rows);

}  // namespace jailctl
