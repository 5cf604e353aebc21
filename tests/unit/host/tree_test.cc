// The tree machinery (host/tree.h): path and symlink rules, the walker, the tar entry reader
// (with a source that fails without a message, and a sparse tar made by `tar -S`), the writer.
#include "host/tree.h"

#include <archive.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "temp_dir.h"
#include "util/command.h"

namespace jailctl {
namespace {

namespace fs = std::filesystem;

TEST(SafeRelativePath, CanonicalAndLenient) {
    struct Case {
        std::string raw;
        const char* canonical;  // nullptr: refused
        const char* lenient;
    } cases[] = {
        {"a/b", "a/b", "a/b"},
        {"", "", ""},
        {"..x/y..", "..x/y..", "..x/y.."},
        {"./a//b/", nullptr, "a/b"},
        {".", nullptr, ""},
        {"a/", nullptr, "a"},
        {"/etc", nullptr, nullptr},
        {"a/../b", nullptr, nullptr},
        {"..", nullptr, nullptr},
        {std::string("a\0b", 3), nullptr, nullptr},
        {std::string(4097, 'a'), nullptr, nullptr},
    };
    for (const auto& c : cases) {
        auto canonical = safe_relative_path(c.raw, PathForm::Canonical);
        auto lenient = safe_relative_path(c.raw, PathForm::Lenient);
        EXPECT_EQ(c.canonical != nullptr, canonical.has_value()) << c.raw;
        EXPECT_EQ(c.lenient != nullptr, lenient.has_value()) << c.raw;
        if (c.canonical && canonical) {
            EXPECT_EQ(c.canonical, *canonical) << c.raw;
        }
        if (c.lenient && lenient) {
            EXPECT_EQ(c.lenient, *lenient) << c.raw;
        }
    }
    EXPECT_EQ("'..' path component (path traversal)", safe_relative_path("a/../b", PathForm::Lenient).error());
    EXPECT_EQ("absolute path", safe_relative_path("/a", PathForm::Lenient).error());
}

TEST(SymlinkStaysInside, ResolvesLexically) {
    EXPECT_TRUE(symlink_stays_inside("a/b/link", "../c"));
    EXPECT_TRUE(symlink_stays_inside("a/link", "../x"));
    EXPECT_TRUE(symlink_stays_inside("link", "/etc/passwd"));  // absolute: from the top
    EXPECT_FALSE(symlink_stays_inside("link", "../x"));
    EXPECT_FALSE(symlink_stays_inside("a/link", "b/../../../x"));  // climbs out even if it comes back
    EXPECT_FALSE(symlink_stays_inside("a/b", "/../etc"));
}

class TreeTest : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_FALSE(dir_.empty()) << "mkdtemp in /var/tmp failed"; }
    void write(const std::string& rel, const std::string& text) {
        fs::create_directories(fs::path(dir_ + "/" + rel).parent_path());
        std::ofstream(dir_ + "/" + rel) << text;
    }
    static std::string slurp(const std::string& path) {
        std::ifstream in(path, std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(in), {});
    }
    TempDir tmp_{"tree-test"};
    std::string dir_ = tmp_.path;
};

TEST_F(TreeTest, WalkIsSortedDepthFirstAndNeverFollowsASymlink) {
    write("src/b/z.txt", "zz");
    write("src/a.txt", "hello");
    write("src/b/a.txt", "x");
    fs::create_symlink("/etc", dir_ + "/src/etc");  // not followed
    ASSERT_EQ(0, ::mkfifo((dir_ + "/src/fifo").c_str(), 0600));
    Fd top(::open((dir_ + "/src").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    std::vector<std::string> seen;
    std::string data;
    auto r = walk_tree(top.get(), [&](const TreeEntry& e) -> Result<void> {
        const char* type[] = {"f", "d", "l", "h", "o"};
        seen.push_back(std::string(type[static_cast<int>(e.meta.type)]) + " " + e.meta.path + " " + e.meta.link_target);
        if (e.meta.type != EntryType::File) return {};
        return read_tree_file(e, [&](const DataBlock& b) -> Result<void> {
            data.append(static_cast<const char*>(b.data), b.size);
            return {};
        });
    });
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ((std::vector<std::string>{"f a.txt ", "d b ", "f b/a.txt ", "f b/z.txt ", "l etc /etc", "o fifo "}), seen);
    EXPECT_EQ("helloxzz", data);
}

// The archiver's read-ahead walks the tree while the archiver does: a second walk of the same
// directory fd must list it in full (a dup'ed fd shares the read position: the second walk saw
// nothing and a backup was an empty archive).
TEST_F(TreeTest, TheSameDirectoryCanBeWalkedAgainAndAtOnce) {
    write("src/a.txt", "a");
    write("src/d/b.txt", "b");
    Fd top(::open((dir_ + "/src").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    const auto names = [&] {
        std::string out;
        auto r = walk_tree(top.get(), [&](const TreeEntry& e) -> Result<void> {
            out += e.meta.path + " ";
            return {};
        });
        EXPECT_TRUE(r);
        return out;
    };
    EXPECT_EQ("a.txt d d/b.txt ", names());
    EXPECT_EQ("a.txt d d/b.txt ", names());
    std::string inner;
    auto r = walk_tree(top.get(), [&](const TreeEntry&) -> Result<void> {
        if (inner.empty()) inner = names();  // a whole walk inside the first one
        return {};
    });
    ASSERT_TRUE(r);
    EXPECT_EQ("a.txt d d/b.txt ", inner);
}

// A source that fails after `good` bytes without telling libarchive why: archive_error_string()
// is NULL then, and every message must still be a sentence (it used to be appended to a
// std::string as a null pointer: undefined behaviour, a crash with libstdc++).
struct FailingSource {
    std::string bytes;
    size_t good, at = 0;
    static la_ssize_t read(archive*, void* self, const void** buf) {
        auto* s = static_cast<FailingSource*>(self);
        if (s->at >= s->good) return ARCHIVE_FATAL;
        size_t n = std::min<size_t>(512, s->good - s->at);
        *buf = s->bytes.data() + s->at;
        s->at += n;
        return static_cast<la_ssize_t>(n);
    }
};

Result<TarReader> reader_on(FailingSource& source) {
    ReadArchive a(archive_read_new());
    archive_read_support_filter_all(a.get());
    archive_read_support_format_tar(a.get());
    if (archive_read_open(a.get(), &source, nullptr, &FailingSource::read, nullptr) != ARCHIVE_OK)
        return fail_input("from", "site.tar: not a readable tar archive: " + archive_message(a.get()));
    return TarReader(std::move(a), "site.tar", "from");
}

TEST_F(TreeTest, AnArchiveErrorWithoutAMessageIsStillAnError) {
    write("src/a.txt", std::string(3000, 'a'));
    write("src/b.txt", "b");
    ASSERT_EQ(0, run_command({"tar", "-C", dir_ + "/src", "-cf", dir_ + "/site.tar", "a.txt", "b.txt"})->exit_status);
    FailingSource none{slurp(dir_ + "/site.tar"), 0};
    auto opened = reader_on(none);
    ASSERT_FALSE(opened);
    EXPECT_EQ("from: site.tar: not a readable tar archive: no message from libarchive", opened.error().message);

    for (size_t good : {size_t{1024}, size_t{3840}}) {  // in a file's data; in the next header
        FailingSource source{slurp(dir_ + "/site.tar"), good};
        auto tar = reader_on(source);
        ASSERT_TRUE(tar) << tar.error().message;
        Result<void> failed;
        for (int i = 0; i < 3 && failed; ++i) {
            auto next = tar->next();
            if (!next) failed = std::unexpected(next.error());
            else if (!*next) break;
            else if (auto data = tar->read_data([](const DataBlock&) { return Result<void>{}; }); !data)
                failed = std::unexpected(data.error());
        }
        ASSERT_FALSE(failed) << "a failing source after " << good << " bytes";
        EXPECT_EQ(ErrorKind::BadInput, failed.error().kind);
        EXPECT_NE(failed.error().message.find("site.tar: corrupted or truncated"), std::string::npos) << failed.error().message;
        EXPECT_NE(failed.error().message.find("no message from libarchive"), std::string::npos) << failed.error().message;
    }
}

TEST_F(TreeTest, ASparseTarEntryIsReadWithItsHoles) {
    write("src/index.html", "<title>x</title>");
    {
        std::ofstream f(dir_ + "/src/holes.bin");
        f << "head";
    }
    fs::resize_file(dir_ + "/src/holes.bin", 3 << 20);
    { std::ofstream(dir_ + "/src/holes.bin", std::ios::app) << "middle"; }
    fs::resize_file(dir_ + "/src/holes.bin", 5 << 20);  // ends in a hole
    auto tar_run = run_command({"tar", "-S", "-C", dir_ + "/src", "-cf", dir_ + "/site.tar", "holes.bin", "index.html"});
    ASSERT_TRUE(tar_run && tar_run->exit_status == 0);
    Fd fd(::open((dir_ + "/site.tar").c_str(), O_RDONLY | O_CLOEXEC));
    auto tar = TarReader::open(fd.get(), "site.tar", TarReader::Filters::Any, "from");
    ASSERT_TRUE(tar) << tar.error().message;
    auto entry = tar->next();
    ASSERT_TRUE(entry && *entry);
    EXPECT_EQ("holes.bin", (*entry)->path);
    std::string content;
    int holes = 0;
    int64_t expected_offset = 0;
    auto size = tar->read_data([&](const DataBlock& b) -> Result<void> {
        EXPECT_EQ(expected_offset, b.offset);
        expected_offset += static_cast<int64_t>(b.size);
        if (b.data) content.append(static_cast<const char*>(b.data), b.size);
        else content.append(b.size, '\0'), ++holes;
        return {};
    });
    ASSERT_TRUE(size) << size.error().message;
    EXPECT_EQ(5 << 20, *size);
    EXPECT_GE(holes, 2) << "tar -S made no sparse entry: the test proves nothing";
    EXPECT_TRUE(content == slurp(dir_ + "/src/holes.bin")) << "content differs";
    auto index = tar->next();
    ASSERT_TRUE(index && *index);
    EXPECT_EQ("index.html", (*index)->path);
}

TEST_F(TreeTest, WriterNeverFollowsASymlinkAndKeepsHoles) {
    fs::create_directories(dir_ + "/top");
    fs::create_directories(dir_ + "/outside");
    Fd top(::open((dir_ + "/top").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    const Owner me{::geteuid(), ::getegid()};
    TreeWriter writer(top.get(), "srv", TreeWriter::Existing::Refuse);
    ASSERT_TRUE(writer.symlink("a", dir_ + "/outside", me, 1700000000));
    auto through = writer.create_file("a/passwd", me, 0644);
    ASSERT_FALSE(through);
    EXPECT_FALSE(fs::exists(dir_ + "/outside/passwd"));
    EXPECT_FALSE(writer.create_file("b/c", me, 0644)) << "a missing parent is an error without an owner for it";

    auto file = writer.create_file("f", me, 0640);
    ASSERT_TRUE(file) << file.error().message;
    ASSERT_TRUE(writer.write_block(file->get(), "f", {"head", 4, 0}));
    ASSERT_TRUE(writer.write_block(file->get(), "f", {nullptr, 1 << 20, 4}));
    ASSERT_TRUE(writer.write_block(file->get(), "f", {"tail", 4, 4 + (1 << 20)}));
    ASSERT_TRUE(writer.finish_file(file->get(), "f", 3 << 20, 1700000001));
    struct stat st {};
    ASSERT_EQ(0, ::stat((dir_ + "/top/f").c_str(), &st));
    EXPECT_EQ(3 << 20, st.st_size);
    EXPECT_LT(st.st_blocks * 512, 1 << 20) << "the holes were written as zeros";
    EXPECT_EQ(1700000001, st.st_mtim.tv_sec);
    EXPECT_EQ(0640u, st.st_mode & 07777);
    std::string content = slurp(dir_ + "/top/f");
    EXPECT_EQ("head", content.substr(0, 4));
    EXPECT_EQ("tail", content.substr(4 + (1 << 20), 4));
    EXPECT_EQ(std::string(1 << 20, '\0'), content.substr(4, 1 << 20));
    EXPECT_FALSE(writer.create_file("f", me, 0644)) << "Existing::Refuse: an existing name is never reused";

    TreeWriter site(top.get(), "srv", TreeWriter::Existing::Replace, me);
    auto again = site.create_file("f", me, 0644);
    ASSERT_TRUE(again) << again.error().message;
    auto deep = site.create_file("x/y/z", me, 0644);
    ASSERT_TRUE(deep) << deep.error().message;
    EXPECT_TRUE(fs::is_directory(dir_ + "/top/x/y"));
    EXPECT_FALSE(site.create_file("a/passwd", me, 0644)) << "not even with missing parents created";
    EXPECT_FALSE(fs::exists(dir_ + "/outside/passwd"));
}

TEST_F(TreeTest, WriterHardLinksOnlyToAFileWrittenBefore) {
    fs::create_directories(dir_ + "/top");
    Fd top(::open((dir_ + "/top").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    const Owner me{::geteuid(), ::getegid()};
    TreeWriter site(top.get(), "srv/site/www", TreeWriter::Existing::Replace, me);
    auto file = site.create_file("a/f", me, 0644);
    ASSERT_TRUE(file) << file.error().message;
    ASSERT_TRUE(site.symlink("l", "a/f", me, std::nullopt));
    ASSERT_TRUE(site.hardlink("b/g", "a/f"));
    struct stat f {}, g {};
    ASSERT_EQ(0, ::stat((dir_ + "/top/a/f").c_str(), &f));
    ASSERT_EQ(0, ::stat((dir_ + "/top/b/g").c_str(), &g));
    EXPECT_EQ(f.st_ino, g.st_ino);
    auto to_link = site.hardlink("h", "l");
    ASSERT_FALSE(to_link) << "a hard link to a symlink";
    EXPECT_NE(to_link.error().message.find("/srv/site/www/h in the jail"), std::string::npos) << to_link.error().message;
    EXPECT_FALSE(site.hardlink("h", "missing"));
    EXPECT_FALSE(site.hardlink("h", "a")) << "a hard link to a directory";
}

}  // namespace
}  // namespace jailctl
