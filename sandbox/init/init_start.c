/* Process entry of the freestanding init and the memory helpers GCC may emit calls to (struct copies, zeroing).
 * The kernel starts us with the stack pointer on argc; _start aligns the stack as the C ABI wants and calls
 * InitMain(argc, argv), which never returns. */
#include "sandbox/init/init_sys.h"

void InitMain(long argc, char** argv) __attribute__((noreturn));

#if defined(__x86_64__)
__asm__(".text\n.global _start\n_start:\n xor %ebp, %ebp\n mov (%rsp), %rdi\n lea 8(%rsp), %rsi\n"
        " and $-16, %rsp\n call InitMain\n hlt\n");
#elif defined(__aarch64__)
__asm__(".text\n.global _start\n_start:\n mov x29, #0\n mov x30, #0\n ldr x0, [sp]\n add x1, sp, #8\n"
        " mov x2, sp\n and x2, x2, #-16\n mov sp, x2\n bl InitMain\n brk #0\n");
#endif

void* memcpy(void* dst, const void* src, size_t n) {
  unsigned char* d = (unsigned char*)dst;
  const unsigned char* s = (const unsigned char*)src;
  while (n--) *d++ = *s++;
  return dst;
}

void* memset(void* dst, int c, size_t n) {
  unsigned char* d = (unsigned char*)dst;
  while (n--) *d++ = (unsigned char)c;
  return dst;
}

int memcmp(const void* a, const void* b, size_t n) {
  const unsigned char* x = (const unsigned char*)a;
  const unsigned char* y = (const unsigned char*)b;
  for (; n; --n, ++x, ++y) {
    if (*x != *y) return *x < *y ? -1 : 1;
  }
  return 0;
}

size_t strlen(const char* s) {
  size_t n = 0;
  while (s[n]) ++n;
  return n;
}
