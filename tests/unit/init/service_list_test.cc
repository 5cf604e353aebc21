#include "init/service_list.h"

#include <gtest/gtest.h>

#include <csignal>
#include <string>

namespace jailctl::init {
namespace {

using Words = std::vector<std::string>;

std::string parse_error(std::string_view text) {
    auto r = parse_service_list(text, "services");
    EXPECT_FALSE(r.has_value()) << text;
    if (r) return "";
    EXPECT_EQ(r.error().kind, ErrorKind::BadInput);
    return r.error().message;
}

TEST(ServiceList, GoodLinesCommentsAndBlankLines) {
    auto r = parse_service_list(
        "# services of web001\n"
        "\n"
        "   \t\n"
        "nginx QUIT /usr/sbin/nginx -c /etc/nginx/nginx.conf   # trailing comment\n"
        "\tvsftpd\tTERM\t/usr/sbin/vsftpd /etc/vsftpd.conf\n"
        "  # indented comment\n"
        "app-1.x KILL /srv/app",  // no final newline
        "services");
    ASSERT_TRUE(r.has_value()) << r.error().message;
    ASSERT_EQ(r->size(), 3u);
    EXPECT_EQ((*r)[0],
              (ServiceSpec{"nginx", SIGQUIT, {"/usr/sbin/nginx", "-c", "/etc/nginx/nginx.conf"}, 4}));
    EXPECT_EQ((*r)[1], (ServiceSpec{"vsftpd", SIGTERM, {"/usr/sbin/vsftpd", "/etc/vsftpd.conf"}, 5}));
    EXPECT_EQ((*r)[2], (ServiceSpec{"app-1.x", SIGKILL, {"/srv/app"}, 7}));
}

TEST(ServiceList, SocketActivationOptions) {
    auto r = parse_service_list(
        "php-fpm QUIT --socket=/run/php-fpm.sock --socket-name=/run/pool.sock --socket-mode=0640 --socket-owner=33:34 "
        "--idle-stop=60 "
        "/usr/sbin/php-fpm8.2 --nodaemonize\n"
        "lazy TERM --socket=/run/lazy.sock /srv/lazy\n"
        "plain TERM /srv/plain --socket=/not/an/option\n",
        "services");
    ASSERT_TRUE(r.has_value()) << r.error().message;
    ASSERT_EQ(r->size(), 3u);
    EXPECT_EQ((*r)[0].argv, (Words{"/usr/sbin/php-fpm8.2", "--nodaemonize"}));
    ASSERT_TRUE((*r)[0].socket);
    EXPECT_EQ(*(*r)[0].socket, (SocketSpec{"/run/php-fpm.sock", "/run/pool.sock", 0640, 33, 34, 60'000}));
    ASSERT_TRUE((*r)[1].socket);
    EXPECT_EQ(*(*r)[1].socket, (SocketSpec{"/run/lazy.sock", "", 0660, 0, 0, 0}));  // the defaults
    EXPECT_FALSE((*r)[2].socket);  // after the program, words are its arguments
    EXPECT_EQ((*r)[2].argv, (Words{"/srv/plain", "--socket=/not/an/option"}));
}

TEST(ServiceList, BadSocketOptions) {
    const std::pair<const char*, const char*> cases[] = {
        {"x TERM --sockets=/run/x /bin/x",
         "unknown option --sockets (known: --socket --socket-name --socket-mode --socket-owner --idle-stop)"},
        {"x TERM --socket=/a --socket-name=a,b /bin/x", "--socket-name 'a,b' must be at most 255 bytes without , = or :"},
        {"x TERM --socket=/a --socket-name=a=b /bin/x", "--socket-name 'a=b' must be at most 255 bytes without , = or :"},
        {"x TERM --socket /bin/x", "option '--socket' needs a value (--socket=...)"},
        {"x TERM --socket= /bin/x", "option '--socket=' needs a value (--socket=...)"},
        {"x TERM --socket=run/x /bin/x", "--socket 'run/x' is not an absolute path of at most 107 bytes"},
        {"x TERM --socket=/a --socket=/b /bin/x", "option --socket given twice"},
        {"x TERM --socket=/a --socket-mode=0800 /bin/x", "--socket-mode '0800' is not octal permission bits (e.g. 0660)"},
        {"x TERM --socket=/a --socket-mode=10000 /bin/x", "--socket-mode '10000' is not octal permission bits (e.g. 0660)"},
        {"x TERM --socket=/a --socket-owner=33 /bin/x", "--socket-owner '33' is not numeric UID:GID"},
        {"x TERM --socket=/a --socket-owner=www-data:33 /bin/x", "--socket-owner 'www-data:33' is not numeric UID:GID"},
        {"x TERM --socket=/a --idle-stop=0 /bin/x", "--idle-stop '0' is not a number of seconds from 1 to 86400"},
        {"x TERM --socket=/a --idle-stop=86401 /bin/x", "--idle-stop '86401' is not a number of seconds from 1 to 86400"},
        {"x TERM --socket=/a --idle-stop=1m /bin/x", "--idle-stop '1m' is not a number of seconds from 1 to 86400"},
        {"x TERM --idle-stop=5 /bin/x", "--socket-name, --socket-mode, --socket-owner and --idle-stop need --socket=PATH"},
        {"x TERM --socket=/a --idle-stop=5", "missing the program after the options"},
        {"x TERM --socket=/a x", "program 'x' is not an absolute path"},
    };
    for (auto [line, want] : cases) EXPECT_EQ(parse_error(line), std::string("services:1: ") + want) << line;
    const std::string long_path = "/" + std::string(107, 'a');
    EXPECT_EQ(parse_error("x TERM --socket=" + long_path + " /bin/x"),
              "services:1: --socket '" + long_path + "' is not an absolute path of at most 107 bytes");
}

TEST(ServiceList, EmptyListIsValid) {
    auto r = parse_service_list("# nothing\n\n", "services");
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(r->empty());
}

TEST(ServiceList, AllStopSignals) {
    const std::pair<const char*, int> cases[] = {{"TERM", SIGTERM}, {"QUIT", SIGQUIT}, {"INT", SIGINT},
                                                 {"HUP", SIGHUP},   {"KILL", SIGKILL}, {"USR1", SIGUSR1},
                                                 {"USR2", SIGUSR2}};
    for (auto [name, sig] : cases) {
        EXPECT_EQ(parse_stop_signal(name), sig) << name;
        EXPECT_EQ(stop_signal_name(sig), name);
    }
    for (const char* bad : {"SIGTERM", "term", "15", "STOP", "PWR", ""})
        EXPECT_FALSE(parse_stop_signal(bad)) << bad;
}

TEST(ServiceList, BadSignalName) {
    EXPECT_EQ(parse_error("ok TERM /bin/true\nweb SIGTERM /usr/sbin/nginx\n"),
              "services:2: stop signal 'SIGTERM' is not one of TERM QUIT INT HUP KILL USR1 USR2");
}

TEST(ServiceList, RelativeProgram) {
    EXPECT_EQ(parse_error("web TERM nginx -c x\n"), "services:1: program 'nginx' is not an absolute path");
    EXPECT_EQ(parse_error("web TERM ./nginx\n"), "services:1: program './nginx' is not an absolute path");
    EXPECT_EQ(parse_error("web TERM ''\n"), "services:1: program '' is not an absolute path");
}

TEST(ServiceList, MissingFields) {
    const std::string want = "missing fields: expected <name> <stop-signal> <absolute program> [args...]";
    EXPECT_EQ(parse_error("web\n"), "services:1: " + want);
    EXPECT_EQ(parse_error("\n\nweb TERM\n"), "services:3: " + want);
    EXPECT_EQ(parse_error("web TERM # /usr/sbin/nginx\n"), "services:1: " + want);
}

TEST(ServiceList, VeryLongLine) {
    std::string ok = "web TERM /bin/echo " + std::string(kMaxLineBytes - 19, 'x');
    ASSERT_EQ(ok.size(), kMaxLineBytes);
    EXPECT_TRUE(parse_service_list(ok, "services").has_value());
    EXPECT_EQ(parse_error("# fine\n" + ok + "y\n"), "services:2: line longer than 4096 bytes");
    EXPECT_EQ(parse_error(std::string(kMaxFileBytes + 1, '#')), "services: larger than 262144 bytes");
}

TEST(ServiceList, BadNames) {
    EXPECT_EQ(parse_error("we\"b TERM /bin/true\n"), "services:1: unterminated \" quote");
    EXPECT_EQ(parse_error("'w b' TERM /bin/true\n"),
              "services:1: service name 'w b': allowed characters are A-Z a-z 0-9 . _ @ : + -");
    EXPECT_EQ(parse_error(std::string(kMaxNameBytes + 1, 'n') + " TERM /bin/true\n"),
              "services:1: service name longer than 64 characters");
    EXPECT_TRUE(parse_service_list(std::string(kMaxNameBytes, 'n') + " TERM /bin/true\n", "s").has_value());
    EXPECT_EQ(parse_error("a TERM /bin/true\nb TERM /bin/true\na QUIT /bin/false\n"),
              "services:3: duplicate service name 'a' (first on line 1)");
}

TEST(ServiceList, ControlCharacters) {
    EXPECT_EQ(parse_error("web TERM /bin/true\r\n"), "services:1: control character in line");
    EXPECT_EQ(parse_error(std::string("web TERM /bin/tr\0ue\n", 19)),
              "services:1: control character in line");
}

TEST(ServiceList, Quoting) {
    auto words = [](std::string_view line) {
        auto r = split_words(line);
        EXPECT_TRUE(r.has_value()) << line;
        return r ? *r : Words{};
    };
    EXPECT_EQ(words("/bin/sh -c 'trap \"\" TERM; sleep 1000'"),
              (Words{"/bin/sh", "-c", "trap \"\" TERM; sleep 1000"}));
    EXPECT_EQ(words(R"(a "b \"c\" \\ \n" d)"), (Words{"a", R"(b "c" \ \n)", "d"}));
    EXPECT_EQ(words(R"(a\ b 'x'"y"z '' "")"), (Words{"a b", "xyz", "", ""}));
    EXPECT_EQ(words("a#b '#' \\# # comment"), (Words{"a#b", "#", "#"}));
    EXPECT_EQ(words("'$HOME' *"), (Words{"$HOME", "*"}));  // no expansion of any kind
    EXPECT_EQ(words(" \t "), Words{});
    EXPECT_FALSE(split_words("'open").has_value());
    EXPECT_FALSE(split_words("\"open \\\"").has_value());
    EXPECT_FALSE(split_words("a \\").has_value());
}

TEST(ServiceList, LoadNamesTheFile) {
    auto r = load_service_list("/nonexistent/jailctl/services");
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().message,
              "open service list /nonexistent/jailctl/services: No such file or directory");
}

}  // namespace
}  // namespace jailctl::init
