// The embedded web console: every file is there with its content type, the HTML references
// only embedded files, and nothing in it would be blocked by (or weaken) the strict CSP.
#include "console/console_assets.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>

namespace jailctl {
namespace {

std::string body_of(std::string_view path) {
    const Asset* a = find_console_asset(path);
    return a ? std::string(a->body) : std::string();
}

TEST(ConsoleAssets, RootIsIndexHtml) {
    const Asset* root = find_console_asset("/");
    ASSERT_NE(root, nullptr);
    EXPECT_EQ(root, find_console_asset("/index.html"));
    EXPECT_EQ(root->content_type, "text/html; charset=utf-8");
    EXPECT_NE(root->body.find("<!doctype html>"), std::string_view::npos);
}

TEST(ConsoleAssets, ContentTypesByExtension) {
    ASSERT_FALSE(console_assets().empty());
    for (const Asset& a : console_assets()) {
        ASSERT_FALSE(a.body.empty()) << a.path;
        if (a.path.ends_with(".js")) {
            EXPECT_EQ(a.content_type, "text/javascript; charset=utf-8") << a.path;
        } else if (a.path.ends_with(".css")) {
            EXPECT_EQ(a.content_type, "text/css; charset=utf-8") << a.path;
        }
        EXPECT_EQ(a.path.find(".."), std::string_view::npos) << a.path;
        EXPECT_TRUE(a.path.starts_with("/")) << a.path;
    }
}

TEST(ConsoleAssets, BodiesAreTheFilesBytesWithoutTerminator) {
    const std::string css = body_of("/style.css");
    ASSERT_FALSE(css.empty());
    EXPECT_EQ(css.find('\0'), std::string::npos);
    EXPECT_EQ(css.back(), '\n');
}

TEST(ConsoleAssets, UnknownPathsAreNotFound) {
    for (const char* path : {"", "/nope.js", "index.html", "/../index.html", "/index.html/", "/INDEX.HTML", "/api/v1/jails"})
        EXPECT_EQ(find_console_asset(path), nullptr) << path;
}

// default-src 'self' blocks inline scripts, inline styles and event-handler attributes:
// the console must have none, or it breaks under its own CSP.
TEST(ConsoleAssets, HtmlHasNothingInline) {
    const std::string html = body_of("/index.html");
    EXPECT_FALSE(std::regex_search(html, std::regex(R"(<script(?![^>]*\ssrc=)[^>]*>)", std::regex::icase)));
    EXPECT_FALSE(std::regex_search(html, std::regex(R"(<style)", std::regex::icase)));
    EXPECT_FALSE(std::regex_search(html, std::regex(R"(\sstyle=)", std::regex::icase)));
    EXPECT_FALSE(std::regex_search(html, std::regex(R"(\son[a-z]+=)", std::regex::icase)));
    EXPECT_FALSE(std::regex_search(html, std::regex(R"(https?://)", std::regex::icase))) << "no CDN";
}

// Every local src/href of the HTML and every import of a module is an embedded file.
TEST(ConsoleAssets, ReferencesResolve) {
    std::set<std::string> refs;
    const std::string html = body_of("/index.html");
    const std::regex attr(R"re((?:src|href)="(/[^"#]*)")re");
    for (auto it = std::sregex_iterator(html.begin(), html.end(), attr); it != std::sregex_iterator(); ++it)
        refs.insert((*it)[1]);
    const std::regex import(R"re(import\s[^'"]*from\s+'\./([^']+)')re");
    for (const Asset& a : console_assets()) {
        if (!a.path.ends_with(".js")) continue;
        const std::string js(a.body);
        for (auto it = std::sregex_iterator(js.begin(), js.end(), import); it != std::sregex_iterator(); ++it)
            refs.insert("/" + (*it)[1].str());
    }
    EXPECT_TRUE(refs.contains("/app.js"));
    EXPECT_TRUE(refs.contains("/style.css"));
    EXPECT_GE(refs.size(), 5u);
    for (const auto& ref : refs) EXPECT_NE(find_console_asset(ref), nullptr) << ref << " is referenced but not embedded";
}

// The console puts API data into the page as text only: no HTML parsing of strings, no eval,
// no inline style (CSP would refuse it), no third-party origin.
TEST(ConsoleAssets, ScriptsUseNoHtmlSinksOrEval) {
    for (const Asset& a : console_assets()) {
        if (!a.path.ends_with(".js")) continue;
        const std::string js(a.body);
        for (const char* banned : {"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(",
                                   "new Function", ".style.", "setAttribute('style'", "http://", "https://"})
            EXPECT_EQ(js.find(banned), std::string::npos) << a.path << " uses " << banned;
    }
}

// Children go through dom.js's h() and fill(), which leave out null: the DOM's own
// replaceChildren/append print a missing value as the text "null".
TEST(ConsoleAssets, ChildrenGoThroughFill) {
    for (const Asset& a : console_assets()) {
        if (!a.path.ends_with(".js") || a.path == "/dom.js") continue;
        EXPECT_EQ(std::string(a.body).find("replaceChildren("), std::string::npos) << a.path << ": use fill()";
    }
}

TEST(ConsoleAssets, CspIsStrict) {
    EXPECT_TRUE(kConsoleCsp.starts_with("default-src 'self'"));
    EXPECT_EQ(kConsoleCsp.find("unsafe"), std::string_view::npos);
}

}  // namespace
}  // namespace jailctl
