// Heap allocation counter of the policy_eval benchmark: alloc_count.cpp replaces the global operator new of the
// benchmark program, so the number of allocations one PolicySet::Evaluate call makes can be read around it.
#pragma once

// operator new calls so far on this program's threads (the benchmark runs one).
extern long long g_allocs;
