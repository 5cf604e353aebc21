// import-site's pure rules for the files of a customer's site (src/cli/import_site.cc), apart so
// that their unit test (tests/unit/cli/import_site_test.cc) includes what it tests.
#pragma once

#include <sys/types.h>

#include <string>

#include "util/result.h"

namespace jailctl {

// "./a//b/" -> "a/b"; "" or "." -> "" (the document root itself). Refuses absolute paths, '..'
// components, NUL bytes and overlong paths.
Result<std::string> clean_site_path(const std::string& raw);
// A symlink of the site at `link_path` to `target`: refused when absolute or climbing out.
Result<void> check_site_symlink(const std::string& link_path, const std::string& target);
// Directories 0755, files 0644, or 0755 when any execute bit was set.
mode_t site_mode(bool is_dir, mode_t mode);
// What identifies the imported index page in the create test's answer.
std::string page_marker(const std::string& html);

}  // namespace jailctl
