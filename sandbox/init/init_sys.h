/* The init's whole runtime: raw system calls and the few memory helpers the compiler may call. The init is linked
 * without libc (-nostdlib -static): it starts in well under a millisecond because it has no dynamic loader, no
 * relocations and no libc start-up (glibc's static start-up alone costs ~0.25 ms here, mostly CPUID probing that
 * traps to the hypervisor), and it maps almost nothing, so its fork-free start and its exit are cheap. Errors are
 * returned as negative errno values, as the kernel gives them. */
#ifndef WARDEN_SANDBOX_INIT_INIT_SYS_H_
#define WARDEN_SANDBOX_INIT_INIT_SYS_H_

#include <stddef.h>
#include <stdint.h>
#include <linux/errno.h>

static inline long sys6(long n, long a, long b, long c, long d, long e, long f) {
#if defined(__x86_64__)
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
  long ret;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return ret;
#elif defined(__aarch64__)
  register long x8 __asm__("x8") = n;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  register long x3 __asm__("x3") = d;
  register long x4 __asm__("x4") = e;
  register long x5 __asm__("x5") = f;
  __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5) : "memory");
  return x0;
#else
#error "the sandbox init supports x86_64 and aarch64"
#endif
}
#define SYS0(n) sys6((n), 0, 0, 0, 0, 0, 0)
#define SYS1(n, a) sys6((n), (long)(a), 0, 0, 0, 0, 0)
#define SYS2(n, a, b) sys6((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define SYS3(n, a, b, c) sys6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define SYS4(n, a, b, c, d) sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define SYS5(n, a, b, c, d, e) sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

/* struct msghdr / iovec with the kernel's layout (no libc headers here). */
struct InitIovec {
  const void* base;
  size_t len;
};
struct InitMsghdr {
  void* name;
  int namelen;
  struct InitIovec* iov;
  size_t iovlen;
  void* control;
  size_t controllen;
  unsigned flags;
};

void* memcpy(void* dst, const void* src, size_t n);
void* memset(void* dst, int c, size_t n);
int memcmp(const void* a, const void* b, size_t n);
size_t strlen(const char* s);

#endif /* WARDEN_SANDBOX_INIT_INIT_SYS_H_ */
