/* Abuse probes run inside the sandbox by sandbox/probes_test.cpp (../shared/docs/sandbox.md C.9). One program, one
 * probe per invocation: `sandbox_probe NAME [ARG]`. Each probe calls the kernel the way bubblewrap's try-syscall
 * does (bad fd or bad pointer where possible, so an allowed call fails harmlessly) and prints one line
 * "NAME RESULT" where RESULT is "ok" or the errno name; a few print facts instead (status, fds, pids). The
 * expected outcomes live in the tests, not here. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <termios.h>
#include <unistd.h>

static const char* name;

static void report(long rc) {
  if (rc >= 0) printf("%s ok\n", name);
  else printf("%s %s\n", name, strerrorname_np(errno) ? strerrorname_np(errno) : "E?");
  fflush(stdout);
}

static int is(const char* n) { return strcmp(name, n) == 0; }

static void print_status(void) {
  FILE* f = fopen("/proc/self/status", "r");
  char line[256];
  if (!f) { report(-1); return; }
  while (fgets(line, sizeof line, f)) {
    if (!strncmp(line, "Cap", 3) || !strncmp(line, "NoNewPrivs", 10) || !strncmp(line, "Seccomp:", 8) ||
        !strncmp(line, "Uid", 3) || !strncmp(line, "Gid", 3))
      fputs(line, stdout);
  }
  fclose(f);
}

static void list_dir(const char* path, int digits_only) {
  DIR* d = opendir(path);
  struct dirent* e;
  if (!d) { report(-1); return; }
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    if (digits_only && (e->d_name[0] < '0' || e->d_name[0] > '9')) continue;
    if (!strcmp(path, "/proc/self/fd") && atoi(e->d_name) == dirfd(d)) continue;
    printf("%s\n", e->d_name);
  }
  closedir(d);
}

static void* thread_fn(void* arg) { return arg; }

int main(int argc, char** argv) {
  if (argc < 2) { fprintf(stderr, "usage: sandbox_probe NAME [ARG]\n"); return 2; }
  name = argv[1];
  const char* arg = argc > 2 ? argv[2] : "";
  errno = 0;
  if (is("status")) print_status();
  else if (is("fds")) list_dir("/proc/self/fd", 0);
  else if (is("pids")) list_dir("/proc", 1);
  else if (is("kill")) report(kill(atoi(arg), 0));
  else if (is("ptrace_traceme")) report(syscall(SYS_ptrace, 0 /*PTRACE_TRACEME*/, 0, 0, 0));
  else if (is("ptrace_attach")) report(syscall(SYS_ptrace, 16 /*PTRACE_ATTACH*/, atoi(arg), 0, 0));
  else if (is("process_vm_readv")) {
    char buf[8]; struct iovec l = {buf, 8}, r = {(void*)0x1000, 8};
    report(process_vm_readv(1, &l, 1, &r, 1, 0));
  }
  else if (is("unshare_user")) report(unshare(CLONE_NEWUSER));
  else if (is("unshare_ns")) report(unshare(CLONE_NEWNS));
  else if (is("setns")) report(setns(-1, 0));
  else if (is("clone_flag")) {  /* raw clone with one CLONE_NEW* bit; the child exits at once */
    long flags = strtol(arg, 0, 0) | SIGCHLD;
    long pid = syscall(SYS_clone, flags, 0, 0, 0, 0);
    if (pid == 0) _exit(0);
    if (pid > 0) waitpid((pid_t)pid, 0, 0);
    report(pid);
  }
  else if (is("clone3")) report(syscall(SYS_clone3, (void*)0, 0));
  else if (is("threads_fork")) {
    pthread_t t; int e = pthread_create(&t, 0, thread_fn, 0);
    if (e) { errno = e; report(-1); return 0; }
    pthread_join(t, 0);
    pid_t p = fork();
    if (p == 0) _exit(7);
    int st = 0; waitpid(p, &st, 0);
    report(WIFEXITED(st) && WEXITSTATUS(st) == 7 ? 0 : -1);
  }
  else if (is("io_uring_setup")) report(syscall(SYS_io_uring_setup, 1, (void*)0));
  else if (is("userfaultfd")) report(syscall(SYS_userfaultfd, O_CLOEXEC));
  else if (is("userfaultfd_user")) report(syscall(SYS_userfaultfd, O_CLOEXEC | 1 /*UFFD_USER_MODE_ONLY*/));
  else if (is("add_key")) report(syscall(SYS_add_key, "user", "k", "v", 1, -4 /*process keyring*/));
  else if (is("keyctl")) report(syscall(SYS_keyctl, 0 /*GET_KEYRING_ID*/, -4, 0));
  else if (is("request_key")) report(syscall(SYS_request_key, "user", "k", 0, 0));
  else if (is("bpf")) { char attr[128] = {0}; report(syscall(SYS_bpf, 0 /*MAP_CREATE*/, attr, sizeof attr)); }
  else if (is("perf_event_open")) {
    uint32_t attr[32] = {0}; attr[0] = 1 /*PERF_TYPE_SOFTWARE*/; attr[1] = sizeof attr;
    report(syscall(SYS_perf_event_open, attr, 0, -1, -1, 0));
  }
  else if (is("mount")) report(mount("none", "/tmp", "tmpfs", 0, 0));
  else if (is("umount2")) report(umount2("/proc", MNT_DETACH));
  else if (is("pivot_root")) report(syscall(SYS_pivot_root, "/tmp", "/tmp"));
  else if (is("chroot")) report(chroot("/tmp"));
  else if (is("fsopen")) report(syscall(SYS_fsopen, "tmpfs", 0));
  else if (is("open_tree")) report(syscall(SYS_open_tree, AT_FDCWD, "/", 1 /*OPEN_TREE_CLONE*/));
  else if (is("personality")) report(syscall(SYS_personality, strtoul(arg, 0, 0)));
  else if (is("kexec_load")) report(syscall(SYS_kexec_load, 0, 0, 0, 0));
  else if (is("kexec_file_load")) report(syscall(SYS_kexec_file_load, -1, -1, 0, "", 0));
  else if (is("init_module")) report(syscall(SYS_init_module, (void*)0, 0, ""));
  else if (is("finit_module")) report(syscall(SYS_finit_module, -1, "", 0));
  else if (is("delete_module")) report(syscall(SYS_delete_module, "nope", 0));
  else if (is("tiocsti")) { char c = 'x'; report(syscall(SYS_ioctl, 0, (unsigned long)TIOCSTI, &c)); }
  else if (is("tiocsti_high")) {
    char c = 'x'; report(syscall(SYS_ioctl, 0, (0x123ul << 32) | TIOCSTI, &c));
  }
  else if (is("tioclinux")) { char c = 0; report(syscall(SYS_ioctl, 0, (0x1ul << 32) | TIOCLINUX, &c)); }
  else if (is("ioctl_plain")) { struct termios t; report(ioctl(0, TCGETS, &t)); }
  else if (is("open_by_handle_at")) report(syscall(SYS_open_by_handle_at, -1, (void*)0, 0));
  else if (is("name_to_handle_at")) report(syscall(SYS_name_to_handle_at, AT_FDCWD, "/", (void*)0, (void*)0, 0));
  else if (is("int80")) {
    long ret;  /* i386 getpid through int 0x80: the wrong ABI for this filter */
    __asm__ volatile("int $0x80" : "=a"(ret) : "a"(20) : "memory");
    printf("%s survived %ld\n", name, ret);
  }
  else if (is("x32")) report(syscall(0x40000000 | 39 /*x32 getpid*/));
  else if (is("nr1000")) report(syscall(1000));
  else if (is("socket")) report(socket(atoi(arg), SOCK_RAW, 0));
  else if (is("socket_high")) report(syscall(SYS_socket, (1ul << 32) | 16 /*AF_NETLINK*/, SOCK_RAW, 0));
  else if (is("socket_inet_high")) report(syscall(SYS_socket, (1ul << 32) | AF_INET, SOCK_STREAM, 0));
  else if (is("tcp_connect")) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0}; char ip[64]; int port = 0;
    sscanf(arg, "%63[^:]:%d", ip, &port);
    a.sin_family = AF_INET; a.sin_port = htons((uint16_t)port); inet_pton(AF_INET, ip, &a.sin_addr);
    report(s < 0 ? -1 : connect(s, (struct sockaddr*)&a, sizeof a));
  }
  else if (is("unix_connect") || is("abstract_connect")) {
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = {0}; a.sun_family = AF_UNIX;
    socklen_t len;
    if (is("abstract_connect")) { a.sun_path[0] = 0; strncpy(a.sun_path + 1, arg, sizeof a.sun_path - 2);
      len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(arg)); }
    else { strncpy(a.sun_path, arg, sizeof a.sun_path - 1); len = sizeof a; }
    report(s < 0 ? -1 : connect(s, (struct sockaddr*)&a, len));
  }
  else if (is("write")) { int fd = open(arg, O_WRONLY | O_CREAT | O_TRUNC, 0644); report(fd < 0 ? -1 : write(fd, "x", 1)); }
  else if (is("read")) { char b[16]; int fd = open(arg, O_RDONLY); report(fd < 0 ? -1 : read(fd, b, sizeof b)); }
  else if (is("open_rw")) report(open(arg, O_RDWR));
  else if (is("exists")) { struct stat st; report(lstat(arg, &st)); }
  else if (is("symlink_escape")) {
    unlink("/workspace/esc"); symlink(arg, "/workspace/esc");
    char b[16]; int fd = open("/workspace/esc", O_RDONLY); report(fd < 0 ? -1 : read(fd, b, sizeof b));
  }
  else if (is("dotdot_escape")) {
    char b[16]; char p[512]; snprintf(p, sizeof p, "/workspace/../../..%s", arg);
    int fd = open(p, O_RDONLY); report(fd < 0 ? -1 : read(fd, b, sizeof b));
  }
  else if (is("hardlink")) { unlink("/workspace/hl"); report(link(arg, "/workspace/hl")); }
  else if (is("mknod_char")) report(mknod("/workspace/dev", S_IFCHR | 0600, makedev(1, 3)));
  else if (is("mkfifo")) { unlink("/workspace/fifo"); report(mkfifo("/workspace/fifo", 0600)); }
  else if (is("setuid0")) report(setuid(0));
  else if (is("proc_self_mem_write")) report(open("/proc/self/mem", O_RDWR));
  else if (is("proc_self_mem_read")) {
    static volatile long marker = 0x5eed; long v = 0;
    int fd = open("/proc/self/mem", O_RDONLY);
    if (fd < 0) { report(-1); return 0; }
    long n = pread(fd, &v, sizeof v, (off_t)(uintptr_t)&marker);
    printf("%s %s\n", name, (n == sizeof v && v == marker) ? "own-memory" : "mismatch");
  }
  else if (is("forkbomb")) {
    int made = 0, err = 0;
    for (int i = 0; i < 100000; ++i) {
      pid_t p = fork();
      if (p == 0) { pause(); _exit(0); }
      if (p < 0) { err = errno; break; }
      ++made;
    }
    printf("%s made=%d %s\n", name, made, err ? strerrorname_np(err) : "none");
    fflush(stdout);
    kill(0, SIGKILL);
  }
  else if (is("memhog")) {
    size_t total = 0, step = 16u << 20;
    for (;;) {
      char* p = mmap(0, step, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) { printf("%s %s after %zu MiB\n", name, strerrorname_np(errno), total >> 20); break; }
      memset(p, 1, step); total += step;
    }
  }
  else if (is("cpuspin")) { volatile unsigned long x = 0; for (;;) ++x; }
  else if (is("sleep")) { for (;;) pause(); }
  else if (is("daemon")) {  /* double fork + setsid, then the grandchild writes a marker after the parent left */
    pid_t p = fork();
    if (p == 0) {
      setsid();
      if (fork() == 0) {
        for (int i = 0; i < 15; ++i) { usleep(100000); }
        int fd = open(arg, O_WRONLY | O_CREAT, 0644); if (fd >= 0) write(fd, "alive", 5);
        _exit(0);
      }
      _exit(0);
    }
    waitpid(p, 0, 0);
    printf("%s parent-exits\n", name); fflush(stdout);
    if (argc > 3) for (;;) pause();  /* "daemon_wait": the parent stays until the timeout */
  }
  else if (is("flood")) { static char b[65536]; memset(b, 'y', sizeof b); for (;;) if (write(1, b, sizeof b) < 0) break; }
  else if (is("diskfill")) {
    int fd = open(arg, O_WRONLY | O_CREAT | O_TRUNC, 0644); static char b[1 << 20];
    signal(SIGXFSZ, SIG_IGN);
    long n; size_t total = 0;
    while ((n = write(fd, b, sizeof b)) > 0) total += (size_t)n;
    printf("%s %s after %zu MiB\n", name, strerrorname_np(errno), total >> 20);
  }
  else if (is("diskfill_signal")) {
    int fd = open(arg, O_WRONLY | O_CREAT | O_TRUNC, 0644); static char b[1 << 20];
    for (;;) if (write(fd, b, sizeof b) < 0) break;
    printf("%s %s\n", name, strerrorname_np(errno));
  }
  else if (is("inodes")) {
    char p[128]; int i = 0;
    for (;; ++i) { snprintf(p, sizeof p, "/tmp/f%d", i); int fd = open(p, O_WRONLY | O_CREAT, 0644); if (fd < 0) break; close(fd); }
    printf("%s %s after %d\n", name, strerrorname_np(errno), i);
  }
  else if (is("fd_exhaust")) {
    int n = 0; while (open("/dev/null", O_RDONLY) >= 0) ++n;
    printf("%s %s after %d\n", name, strerrorname_np(errno), n);
  }
  else if (is("notify_storm")) {
    long n = 0; for (; n < 1000000; ++n) syscall(SYS_ptrace, 0, 0, 0, 0);
    printf("%s finished %ld\n", name, n);
  }
  else if (is("ansi")) { fwrite("\x1b[31mred\x1b]0;title\x07\0nul\n", 1, 24, stdout); }
  else if (is("env")) { extern char** environ; for (char** e = environ; *e; ++e) printf("%s\n", *e); }
  else if (is("mdwe_wx")) {
    void* p = mmap(0, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    report(p == MAP_FAILED ? -1 : 0);
  }
  else if (is("hostname")) { char h[64] = {0}; gethostname(h, sizeof h - 1); printf("%s %s\n", name, h); }
  else if (is("echo_stdin")) { char b[4096]; long n; while ((n = read(0, b, sizeof b)) > 0) fwrite(b, 1, (size_t)n, stdout); }
  else if (is("exit")) return atoi(arg);
  else { fprintf(stderr, "unknown probe %s\n", name); return 2; }
  return 0;
}
