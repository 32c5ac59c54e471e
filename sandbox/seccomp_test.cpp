// Probe 58 of ../shared/docs/sandbox.md C.9: the exported seccomp programs are checked by a small reference BPF
// evaluator on chosen and random inputs (gVisor's filter fuzz test is the model), including the two libseccomp
// 2.5.4 traps: junk in the upper half of a 32-bit argument, and conditional denials next to an unconditional
// allow. Also checks the pseudo-code for unmasked high-word compares on ioctl's command.
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <termios.h>

#include <cstring>
#include <random>
#include <sstream>

#include "sandbox/probe_test_util.h"
#include "sandbox/sandbox_internal.h"

namespace warden::sandbox {
namespace {

struct Data {
  int nr;
  uint32_t arch = AUDIT_ARCH_X86_64;
  uint64_t ip = 0;
  uint64_t args[6] = {0, 0, 0, 0, 0, 0};
};

// Reference interpreter for the classic-BPF subset seccomp allows. Fails the test on an opcode it does not know.
uint32_t Eval(const std::vector<sock_filter>& prog, const Data& d) {
  unsigned char buf[64];
  std::memset(buf, 0, sizeof(buf));
  std::memcpy(buf, &d.nr, 4);
  std::memcpy(buf + 4, &d.arch, 4);
  std::memcpy(buf + 8, &d.ip, 8);
  std::memcpy(buf + 16, d.args, 48);
  uint32_t a = 0, x = 0, mem[16] = {};
  for (size_t pc = 0; pc < prog.size(); ++pc) {
    const sock_filter& f = prog[pc];
    uint32_t src = (BPF_SRC(f.code) == BPF_X) ? x : f.k;
    switch (BPF_CLASS(f.code)) {
      case BPF_LD:
        if (BPF_MODE(f.code) == BPF_ABS) std::memcpy(&a, buf + f.k, 4);
        else if (BPF_MODE(f.code) == BPF_IMM) a = f.k;
        else if (BPF_MODE(f.code) == BPF_MEM) a = mem[f.k];
        else FAIL("unknown LD mode");
        break;
      case BPF_LDX:
        if (BPF_MODE(f.code) == BPF_IMM) x = f.k;
        else if (BPF_MODE(f.code) == BPF_MEM) x = mem[f.k];
        else FAIL("unknown LDX mode");
        break;
      case BPF_ST: mem[f.k] = a; break;
      case BPF_STX: mem[f.k] = x; break;
      case BPF_ALU:
        switch (BPF_OP(f.code)) {
          case BPF_AND: a &= src; break;
          case BPF_OR: a |= src; break;
          case BPF_ADD: a += src; break;
          case BPF_SUB: a -= src; break;
          case BPF_RSH: a >>= src; break;
          case BPF_LSH: a <<= src; break;
          default: FAIL("unknown ALU op");
        }
        break;
      case BPF_JMP: {
        if (BPF_OP(f.code) == BPF_JA) {
          pc += f.k;
          break;
        }
        bool c = false;
        switch (BPF_OP(f.code)) {
          case BPF_JEQ: c = a == src; break;
          case BPF_JGT: c = a > src; break;
          case BPF_JGE: c = a >= src; break;
          case BPF_JSET: c = (a & src) != 0; break;
          default: FAIL("unknown JMP op");
        }
        pc += c ? f.jt : f.jf;
        break;
      }
      case BPF_RET: return BPF_RVAL(f.code) == BPF_A ? a : f.k;
      case BPF_MISC:
        if (BPF_MISCOP(f.code) == BPF_TAX) x = a;
        else a = x;
        break;
      default: FAIL("unknown class");
    }
  }
  FAIL("fell off the end of the program");
  return 0;
}

uint32_t Action(uint32_t ret) { return ret & SECCOMP_RET_ACTION_FULL; }

const detail::SeccompPrograms& Programs() {
  auto p = detail::GetSeccompPrograms("default");
  REQUIRE(p.ok());
  return **p;
}

Data Call(int nr, std::initializer_list<uint64_t> args = {}) {
  Data d;
  d.nr = nr;
  size_t i = 0;
  for (auto a : args) d.args[i++] = a;
  return d;
}

TEST_CASE("probe 58: every reported syscall is allowed by filter 1 and notified by filter 2", "[sandbox][seccomp]") {
  const auto& p = Programs();
  for (int nr : {SYS_ptrace, SYS_process_vm_readv, SYS_unshare, SYS_setns, SYS_mount, SYS_bpf, SYS_perf_event_open,
                 SYS_userfaultfd, SYS_io_uring_setup, SYS_keyctl, SYS_add_key, SYS_open_by_handle_at, SYS_setuid,
                 SYS_chroot, SYS_pivot_root, SYS_kexec_load, SYS_finit_module, SYS_vmsplice, SYS_pidfd_getfd}) {
    INFO("nr " << nr << " " << detail::SyscallName(nr));
    CHECK(Action(Eval(p.allowlist, Call(nr))) == SECCOMP_RET_ALLOW);
    CHECK(Action(Eval(p.report, Call(nr))) == SECCOMP_RET_USER_NOTIF);
    CHECK(Eval(p.report_errno, Call(nr)) == (SECCOMP_RET_ERRNO | EPERM));
  }
  CHECK(detail::ReportedSyscalls().size() >= 60);
}

TEST_CASE("probe 58: filter 1 defaults to ENOSYS, kills other ABIs, allows ordinary calls", "[sandbox][seccomp]") {
  const auto& p = Programs();
  CHECK(Eval(p.allowlist, Call(1000)) == (SECCOMP_RET_ERRNO | ENOSYS));
  CHECK(Eval(p.allowlist, Call(SYS_clone3)) == (SECCOMP_RET_ERRNO | ENOSYS));
  for (int nr : {SYS_read, SYS_write, SYS_openat, SYS_mmap, SYS_execve, SYS_clone, SYS_futex, SYS_getrandom}) {
    CHECK(Action(Eval(p.allowlist, Call(nr))) == SECCOMP_RET_ALLOW);
    CHECK(Action(Eval(p.report, Call(nr))) == SECCOMP_RET_ALLOW);
  }
  Data i386 = Call(20);
  i386.arch = AUDIT_ARCH_I386;
  CHECK(Action(Eval(p.allowlist, i386)) == SECCOMP_RET_KILL_PROCESS);
  CHECK(Action(Eval(p.report, i386)) == SECCOMP_RET_KILL_PROCESS);
  Data x32 = Call(0x40000000 | SYS_getpid);
  CHECK(Action(Eval(p.allowlist, x32)) == SECCOMP_RET_KILL_PROCESS);
}

TEST_CASE("probe 58: argument rules ignore junk in the upper half (fuzzed)", "[sandbox][seccomp]") {
  const auto& p = Programs();
  std::mt19937_64 rng(7);
  for (int i = 0; i < 2000; ++i) {
    uint64_t junk = rng() << 32;
    uint64_t low = rng() & 0xffffffffull;
    // ioctl: TIOCSTI/TIOCLINUX always reported, whatever the upper half; anything else passes.
    bool tty = (low == TIOCSTI || low == TIOCLINUX);
    CHECK(Action(Eval(p.report, Call(SYS_ioctl, {0, junk | TIOCSTI}))) == SECCOMP_RET_USER_NOTIF);
    CHECK(Action(Eval(p.report, Call(SYS_ioctl, {0, junk | TIOCLINUX}))) == SECCOMP_RET_USER_NOTIF);
    CHECK(Action(Eval(p.report, Call(SYS_ioctl, {0, junk | low}))) ==
          (tty ? SECCOMP_RET_USER_NOTIF : SECCOMP_RET_ALLOW));
    // socket: AF_UNIX/INET/INET6 pass in the filter; every other family, and anything with junk in the upper half,
    // goes to the supervisor (which judges the low half).
    uint64_t af = rng() % 64;
    bool ok_af = af == AF_UNIX || af == AF_INET || af == AF_INET6;
    CHECK(Action(Eval(p.report, Call(SYS_socket, {af, SOCK_STREAM, 0}))) ==
          (ok_af ? SECCOMP_RET_ALLOW : SECCOMP_RET_USER_NOTIF));
    if (junk != 0) CHECK(Action(Eval(p.report, Call(SYS_socket, {junk | af, 0, 0}))) == SECCOMP_RET_USER_NOTIF);
    // clone: any namespace bit is reported.
    uint64_t flags = rng() & ~uint64_t{0x7e020000};  // no CLONE_NEW* bits
    CHECK(Action(Eval(p.report, Call(SYS_clone, {flags}))) == SECCOMP_RET_ALLOW);
    CHECK(Action(Eval(p.report, Call(SYS_clone, {flags | CLONE_NEWUSER}))) == SECCOMP_RET_USER_NOTIF);
    // personality always goes to the supervisor (it lets 0 and 0xffffffff continue; probe 15 checks that).
    CHECK(Action(Eval(p.report, Call(SYS_personality, {junk | low}))) == SECCOMP_RET_USER_NOTIF);
  }
  CHECK(Action(Eval(p.report, Call(SYS_mknodat, {0, 0, 0020000 | 0600, 0}))) == SECCOMP_RET_USER_NOTIF);
  CHECK(Action(Eval(p.report, Call(SYS_mknodat, {0, 0, 0010000 | 0600, 0}))) == SECCOMP_RET_ALLOW);  // FIFO
}

TEST_CASE("probe 58: the pseudo-code has no unmasked high-word compare on ioctl's command", "[sandbox][seccomp]") {
  auto pfc = detail::ExportSeccompPfc("default");
  REQUIRE(pfc.ok());
  CHECK(pfc->find("# filter 1: allowlist") != std::string::npos);
  CHECK(pfc->find("# filter 2: deny and report") != std::string::npos);
  std::istringstream in(*pfc);
  std::string line;
  int masked_hi = 0;
  while (std::getline(in, line)) {
    INFO(line);
    CHECK(line.find("$a1.hi32 ==") == std::string::npos);
    if (line.find("$a1.hi32 & 0x00000000") != std::string::npos) ++masked_hi;
  }
  CHECK(masked_hi >= 2);
}

}  // namespace
}  // namespace warden::sandbox
