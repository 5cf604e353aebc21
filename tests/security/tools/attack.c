// attack.c — the raw system calls of the tests/security escape attempts, one per sub-command.
// Prints "ok <detail>" and exits 0 when the call succeeded, "err <ERRNO_NAME> <detail>" and
// exits 1 when it failed, exit 2 on a usage error. The test scripts compare the two.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int result(int rc, const char* what) {
    if (rc < 0) {
        const char* name = strerrorname_np(errno);
        printf("err %s %s\n", name ? name : "?", what);
        return 1;
    }
    printf("ok %s\n", what);
    return 0;
}

// name_to_handle_at(path) then open_by_handle_at() with that handle, or with the handle
// patched to inode `guess_ino` (ext4 handles are {u32 ino, u32 generation}).
static int handle(const char* path, const char* guess_ino) {
    struct {
        struct file_handle fh;
        unsigned char data[MAX_HANDLE_SZ];
    } h;
    memset(&h, 0, sizeof h);
    h.fh.handle_bytes = MAX_HANDLE_SZ;
    int mount_id = 0;
    if (name_to_handle_at(AT_FDCWD, path, &h.fh, &mount_id, 0) < 0) return result(-1, "name_to_handle_at");
    printf("ok name_to_handle_at type=%d bytes=%u\n", h.fh.handle_type, h.fh.handle_bytes);
    if (guess_ino) {
        unsigned int ino = (unsigned int)strtoul(guess_ino, NULL, 0);
        memcpy(h.fh.f_handle, &ino, sizeof ino);
        memset(h.fh.f_handle + sizeof ino, 0, h.fh.handle_bytes - sizeof ino);
    }
    int mfd = open(path, O_RDONLY | O_DIRECTORY);
    if (mfd < 0) return result(-1, "open mount dir");
    int fd = open_by_handle_at(mfd, &h.fh, O_RDONLY);
    return result(fd, "open_by_handle_at");
}

int main(int argc, char** argv) {
    if (argc < 2) return 2;
    const char* cmd = argv[1];
    if (!strcmp(cmd, "open-write") && argc == 3)  // open(path, O_WRONLY) (no create, no truncate)
        return result(open(argv[2], O_WRONLY), "open O_WRONLY");
    if (!strcmp(cmd, "open-rdwr") && argc == 3)
        return result(open(argv[2], O_RDWR), "open O_RDWR");
    if (!strcmp(cmd, "open-read") && argc == 3)
        return result(open(argv[2], O_RDONLY), "open O_RDONLY");
    if (!strcmp(cmd, "handle") && (argc == 3 || argc == 4)) return handle(argv[2], argc == 4 ? argv[3] : NULL);
    if (!strcmp(cmd, "finit_module") && argc == 3) {
        int fd = strcmp(argv[2], "-") ? open(argv[2], O_RDONLY) : -1;
        return result((int)syscall(SYS_finit_module, fd, "", 0), "finit_module");
    }
    if (!strcmp(cmd, "init_module")) {  // an empty image: EPERM if not allowed, else ENOEXEC/EINVAL
        static char image[64];
        return result((int)syscall(SYS_init_module, image, sizeof image, ""), "init_module");
    }
    if (!strcmp(cmd, "delete_module") && argc == 3)
        return result((int)syscall(SYS_delete_module, argv[2], O_NONBLOCK), "delete_module");
    if (!strcmp(cmd, "settime") && argc == 3) {  // CLOCK_REALTIME := argv[2] seconds since the epoch
        struct timespec now;
        if (clock_gettime(CLOCK_REALTIME, &now) < 0) return result(-1, "clock_gettime");
        printf("ok clock_gettime %lld\n", (long long)now.tv_sec);
        struct timespec t = {.tv_sec = strtoll(argv[2], NULL, 10), .tv_nsec = 0};
        return result(clock_settime(CLOCK_REALTIME, &t), "clock_settime");
    }
    if (!strcmp(cmd, "mknod-open") && argc == 5) {  // mknod path b MAJ:MIN, then open it
        unsigned maj = (unsigned)atoi(argv[3]), min = (unsigned)atoi(argv[4]);
        int made = mknod(argv[2], S_IFBLK | 0600, makedev(maj, min));
        result(made, "mknod");
        int fd = open(argv[2], O_RDONLY);
        int rc = result(fd, "open device");
        if (fd >= 0) {
            char buf[512];
            ssize_t n = read(fd, buf, sizeof buf);
            printf("%s read %zd\n", n > 0 ? "ok" : "err", n);
            if (n > 0) rc = 0;
        }
        return rc;
    }
    return 2;
}
