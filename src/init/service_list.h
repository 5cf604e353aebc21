// The service list of jailctl-init: which programs run inside a jail.
//
// File format (/etc/jailctl/services), one service per line:
//
//     <name> <stop-signal> [--option=value...] <absolute program> [args...]
//     nginx   QUIT  /usr/sbin/nginx -c /etc/nginx/nginx.conf
//     vsftpd  TERM  /usr/sbin/vsftpd /etc/vsftpd.conf
//     php-fpm QUIT  --socket=/run/php-fpm.sock --socket-name=/run/php-fpm-pool.sock --idle-stop=60 /usr/sbin/php-fpm8.2 ...
//
// Words are separated by spaces or tabs. Blank lines are ignored; an unquoted '#' that starts a
// word starts a comment running to the end of the line. A word may be quoted like in sh, without
// any expansion: '...' is literal, "..." is literal except that \" and \\ stand for " and \,
// and outside quotes a backslash takes the next character literally:
//
//     stubborn TERM /bin/sh -c 'trap "" TERM; exec sleep 1000'
//
// name:        1-64 characters of [A-Za-z0-9._@:+-], unique in the file.
// stop-signal: TERM QUIT INT HUP KILL USR1 USR2 (without the SIG prefix).
// program:     an absolute path; it is executed directly (execve), never through a shell.
// Options (socket activation, each at most once; the others need --socket):
//   --socket=PATH        the init creates and holds the listening unix socket PATH (absolute)
//                        and starts the service on the first connection, handing it the socket
//                        as fd 3 (LISTEN_FDS=1 LISTEN_PID=<pid> LISTEN_FDNAMES=NAME, systemd's
//                        convention, and FPM_SOCKETS=NAME=3, php-fpm's). Until then the
//                        service is "waiting". The socket outlives the service's runs.
//   --socket-name=NAME   the name announced (default PATH). php-fpm takes the socket whose name
//                        is its pool's `listen` and removes that file when it exits: its pool
//                        must name something else than PATH, or the next start finds no socket.
//   --socket-mode=OCTAL  the socket's permission bits, default 0660
//   --socket-owner=U:G   numeric uid:gid of the socket, default 0:0
//   --idle-stop=SECONDS  stop the service (its stop signal) once its main process has had no
//                        child and its socket no connection waiting to be accepted for SECONDS
//                        (1..86400; e.g. php-fpm's ondemand workers all gone):
//                        it waits on its socket again, no connection lost. Default: never.
// Lines are at most kMaxLineBytes long, the file at most kMaxFileBytes; control characters
// other than tab are refused. An empty list is valid (the init then only reaps orphans).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace jailctl::init {

inline constexpr std::size_t kMaxLineBytes = 4096;
inline constexpr std::size_t kMaxFileBytes = 256 * 1024;
inline constexpr std::size_t kMaxNameBytes = 64;

// --socket and its companions (see above).
struct SocketSpec {
    std::string path;
    std::string name;  // announced to the service; empty: the path
    unsigned mode = 0660;
    unsigned uid = 0;
    unsigned gid = 0;
    int64_t idle_stop_ms = 0;  // 0: never stopped for idleness

    friend bool operator==(const SocketSpec&, const SocketSpec&) = default;
};

struct ServiceSpec {
    std::string name;
    int stop_signal = 0;            // e.g. SIGQUIT
    std::vector<std::string> argv;  // argv[0] is the absolute program path
    int line = 0;                   // where it was declared, for messages
    std::optional<SocketSpec> socket;  // socket-activated: started on the first connection

    friend bool operator==(const ServiceSpec&, const ServiceSpec&) = default;
};

// "TERM" -> SIGTERM; nullopt for anything not in the accepted list.
std::optional<int> parse_stop_signal(std::string_view name);
// SIGTERM -> "TERM"; "?" for a signal not in the accepted list.
std::string_view stop_signal_name(int signal);

// Splits one line into words (quoting rules above); the error is a reason without position.
Result<std::vector<std::string>> split_words(std::string_view line);

// Parses a whole file's text. Errors read "<source>:<line>: <reason>" (kind BadInput).
Result<std::vector<ServiceSpec>> parse_service_list(std::string_view text, std::string_view source);

// Reads and parses the file at `path`.
Result<std::vector<ServiceSpec>> load_service_list(const std::string& path);

}  // namespace jailctl::init
