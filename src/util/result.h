// Error and Result: the one error convention of jailctl.
// Low layers return Result<T>; each layer may wrap the message with what it
// was doing; only the program (cli/) prints or logs the final error.
#pragma once

#include <cerrno>
#include <cstring>
#include <expected>
#include <string>
#include <utility>

namespace jailctl {

// Exit statuses of the command line (issue #2): 2 bad input, 3 conflict,
// 4 host not ready, 5 a step failed.
enum class ErrorKind { BadInput = 2, Conflict = 3, HostNotReady = 4, StepFailed = 5 };

struct Error {
    ErrorKind kind = ErrorKind::StepFailed;
    std::string message;

    // Prefixes the message with the operation that was under way:
    // Error{"Permission denied"}.context("mount disk.img") -> "mount disk.img: Permission denied".
    Error context(const std::string& what) const& { return {kind, what + ": " + message}; }
};

template <class T = void>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> fail(ErrorKind kind, std::string message) {
    return std::unexpected(Error{kind, std::move(message)});
}
inline std::unexpected<Error> fail(std::string message) {
    return fail(ErrorKind::StepFailed, std::move(message));
}
// "<what>: <strerror(err)>" — call with errno captured right after the syscall.
inline std::unexpected<Error> fail_errno(const std::string& what, int err) {
    return fail(ErrorKind::StepFailed, what + ": " + std::strerror(err));
}
inline std::unexpected<Error> fail_input(const std::string& field, const std::string& why) {
    return fail(ErrorKind::BadInput, field + ": " + why);
}

}  // namespace jailctl
