// Replaces the global operator new/delete of the policy_eval benchmark with malloc/free plus a counter (see
// alloc_count.h). In its own file so the compiler never inlines the pair into code that frees what new returned.
#include "bench/policy_eval/alloc_count.h"

#include <cstdlib>
#include <new>

long long g_allocs = 0;

void* operator new(std::size_t n) {
  ++g_allocs;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
