// Running external programs: argv only, never a shell string.
// Used only where a format's own tool is the authority (mkfs.ext4, e2fsck,
// resize2fs) and for the hosted services' own checks (nginx -t).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "util/result.h"

namespace jailctl {

struct CommandResult {
    int exit_status = -1;  // exit code, or 128+signal when killed
    std::string output;    // stdout and stderr interleaved, capped at 64 KiB
};

// Observer told of every finished command (the task log records argv, status, duration).
using CommandObserver =
    std::function<void(const std::vector<std::string>& argv, const CommandResult&, double ms)>;
void set_command_observer(CommandObserver observer);

// Runs argv[0] (looked up in PATH) with stdin from /dev/null. Fails only when the
// program could not be started; a non-zero exit is reported in the result.
Result<CommandResult> run_command(const std::vector<std::string>& argv);

// run_command, and a non-zero exit becomes an Error quoting the program's last output line.
Result<CommandResult> run_checked(const std::vector<std::string>& argv);

// How a failed program is reported: "<program> exited with status N: <its last output line>"
// (without the line when it printed nothing).
std::string exit_message(const std::string& program, const CommandResult& result);

}  // namespace jailctl
