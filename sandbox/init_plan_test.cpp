// The init refuses a plan it cannot trust (init/init_plan_check.c): the supervisor always writes valid ones, so these
// cases start a real init (init_launch.cpp StartInit) and send it hand-made go messages, then read the setup record
// it answers with. Each names the step and errno the result's setup_error would show.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "sandbox/probe_test_util.h"
#include "sandbox/sandbox_internal.h"

namespace warden::sandbox {
namespace {

using detail::InitPlan;

// A plan whose strings are all valid: the header, then "sandbox\0" at every string field, argv = {"x"}.
std::string ValidPlan() {
  std::string buf(sizeof(InitPlan), '\0');
  const uint32_t str = static_cast<uint32_t>(buf.size());
  buf += std::string("sandbox") + '\0';
  while (buf.size() % 8 != 0) buf.push_back('\0');
  const uint32_t argv = static_cast<uint32_t>(buf.size());
  buf.append(reinterpret_cast<const char*>(&str), sizeof(str));
  InitPlan p{};
  p.magic = detail::kInitPlanMagic;
  p.size = static_cast<uint32_t>(buf.size());
  p.stdin_fdi = p.stdout_fdi = p.stderr_fdi = 1;
  p.cgroup_fdi[0] = p.cgroup_fdi[1] = -1;
  p.root_tree_fdi = -1;
  p.hostname = p.staging = p.root_options = p.tmp_options = p.tmp_target = p.proc_target = str;
  p.exec_path = p.workdir = str;
  p.argv = {argv, 1};
  std::memcpy(buf.data(), &p, sizeof(p));
  return buf;
}

InitPlan& Header(std::string& plan) { return *reinterpret_cast<InitPlan*>(plan.data()); }

// Starts an init, sends `plan` with one extra fd (index 1), returns its setup record.
detail::ChildMsg Answer(const std::string& plan, uint32_t go_magic = detail::kInitPlanMagic) {
  auto [uid, gid] = detail::NextHostIdentity();
  auto init = detail::StartInit(uid, gid);
  REQUIRE(init.ok());
  detail::InitGoMessage go;
  go.plan = detail::OwnedFd(static_cast<int>(::syscall(SYS_memfd_create, "test-plan", MFD_CLOEXEC)));
  REQUIRE(::write(go.plan.get(), plan.data(), plan.size()) == static_cast<ssize_t>(plan.size()));
  int pipe_fds[2];
  REQUIRE(::pipe2(pipe_fds, O_CLOEXEC) == 0);
  go.fds = {go.plan.get(), pipe_fds[0]};
  if (go_magic == detail::kInitPlanMagic) {
    REQUIRE(detail::SendInitGo((*init)->sync.get(), go).ok());
  } else {
    detail::InitGo head{go_magic, 2};
    REQUIRE(::send((*init)->sync.get(), &head, sizeof(head), MSG_NOSIGNAL) == sizeof(head));
  }
  detail::ChildMsg m{};
  REQUIRE(::recv((*init)->sync.get(), &m, sizeof(m), 0) == sizeof(m));
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
  return m;
}

TEST_CASE("the init refuses a plan it cannot trust and names the step", "[sandbox][init]") {
  {
    INFO("a go record of another version");
    auto m = Answer(ValidPlan(), 0x12345678);
    CHECK(m.type == detail::kMsgSetupError);
    CHECK(m.step == detail::kStepSync);
    CHECK(m.err == EPROTO);
  }
  {
    INFO("a plan of another version");
    std::string plan = ValidPlan();
    Header(plan).magic = 0x57494e30;
    auto m = Answer(plan);
    CHECK(m.step == detail::kStepPlan);
    CHECK(m.err == EINVAL);
  }
  {
    INFO("a size that is not the memfd's");
    std::string plan = ValidPlan();
    Header(plan).size += 8;
    auto m = Answer(plan);
    CHECK(m.step == detail::kStepPlan);
    CHECK(m.err == EINVAL);
  }
  {
    INFO("a string past the end");
    std::string plan = ValidPlan();
    Header(plan).hostname = static_cast<uint32_t>(plan.size()) + 16;
    auto m = Answer(plan);
    CHECK(m.step == detail::kStepPlan);
    CHECK(m.err == EINVAL);
  }
  {
    INFO("a string without its terminator");
    std::string plan = ValidPlan();
    plan.resize(plan.size() + 3, 'y');
    Header(plan).size = static_cast<uint32_t>(plan.size());
    Header(plan).workdir = static_cast<uint32_t>(plan.size()) - 3;
    auto m = Answer(plan);
    CHECK(m.step == detail::kStepPlan);
    CHECK(m.err == EINVAL);
  }
  {
    INFO("a list whose records run past the end");
    std::string plan = ValidPlan();
    Header(plan).binds = {Header(plan).argv.off, 1000};
    auto m = Answer(plan);
    CHECK(m.step == detail::kStepPlan);
    CHECK(m.err == EINVAL);
  }
  {
    INFO("an fd index the go message did not carry");
    std::string plan = ValidPlan();
    Header(plan).stderr_fdi = 7;
    auto m = Answer(plan);
    CHECK(m.step == detail::kStepPlan);
    CHECK(m.err == EBADF);
  }
  {
    INFO("no program");
    std::string plan = ValidPlan();
    Header(plan).argv.count = 0;
    auto m = Answer(plan);
    CHECK(m.step == detail::kStepPlan);
    CHECK(m.err == E2BIG);
  }
}

}  // namespace
}  // namespace warden::sandbox
