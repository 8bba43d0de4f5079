//go:build cudaemu && !gpu && amd64

// emulator.cpp: the kernel sources on the CPU, for their tests (see emulator.h).
#include "emulator.h"

#include <cstdint>
#include <cstdio>
#include <type_traits>
#include <utility>
#include <vector>

#include "emulator_api.h"

emu_dim3 threadIdx, blockIdx, blockDim, gridDim;
unsigned char* emu_dynamic_shared;

#include "attention.cu"
#include "layernorm.cu"
#include "logsoftmax.cu"
#include "objective.cu"
#include "optim.cu"
#include "pointwise.cu"
#include "rows.cu"
#include "sampler.cu"

namespace {

// call calls kernel f with the parameters that p points to.
template <class... A, size_t... I>
void call(void (*f)(A...), void** p, std::index_sequence<I...>) {
  f(*static_cast<std::remove_cv_t<A>*>(p[I])...);
}
template <class... A>
void call(void (*f)(A...), void** p) {
  call(f, p, std::index_sequence_for<A...>{});
}

struct Kernel {
  const char* name;
  void (*invoke)(void**);
};

#define KERNEL(f) {#f, [](void** p) { call(f, p); }}
const Kernel kernels[] = {
    KERNEL(attention_forward),
    KERNEL(attention_backward_query),
    KERNEL(attention_backward_key),
    KERNEL(attention_step),
    KERNEL(layernorm_forward),
    KERNEL(layernorm_backward_dx),
    KERNEL(layernorm_backward_params),
    KERNEL(logsoftmax_gather_forward),
    KERNEL(logsoftmax_gather_backward),
    KERNEL(objective_terms),
    KERNEL(optim_adamw),
    KERNEL(optim_sum_squares),
    KERNEL(optim_sum_partials),
    KERNEL(pointwise_add),
    KERNEL(pointwise_scale),
    KERNEL(pointwise_add_bias),
    KERNEL(pointwise_gelu_forward),
    KERNEL(pointwise_gelu_backward),
    KERNEL(pointwise_scale_matrix),
    KERNEL(rows_gather),
    KERNEL(rows_scatter_add),
    KERNEL(rows_copy),
    KERNEL(rows_sum),
    KERNEL(rows_embedding_forward),
    KERNEL(sampler_draw),
};

const size_t stackBytes = 256 << 10;

// switchStack saves the running fiber's callee-saved registers on its stack and its stack
// pointer in *from, then resumes the fiber whose stack pointer is to: a context switch of a
// few instructions, where ucontext's makes a system call, and the tests switch at every barrier.
extern "C" void emu_switch(void** from, void* to);
asm(R"(
.text
.globl emu_switch
.type emu_switch, @function
emu_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
.size emu_switch, .-emu_switch
.section .note.GNU-stack,"",@progbits
.text
)");

struct Fiber {
  void* sp;  // its saved stack pointer, while it does not run
  std::vector<char> stack;
  emu_dim3 index;
  int linear;   // index in the block, x fastest
  bool done;
  int waiting;  // the group whose barrier it waits at, or −1
};

// The block being run. Group 0 is the block, group 1+w its warp w.
std::vector<Fiber> fibers;
void* scheduler;  // the scheduler's saved stack pointer, while a fiber runs
int running;
std::vector<int> members, arrived;
uint64_t blockBarriers;  // block barriers passed
int orSlot[2];           // __syncthreads_or's vote, by the parity of the barrier
double exchange[1024];   // the warp shuffles' values, by thread
void (*invoke)(void**);
void** params;

// start is where every fiber begins: it runs the kernel for the thread, and never returns.
void start() {
  invoke(params);
  Fiber& f = fibers[running];
  f.done = true;
  members[0]--;
  members[1 + f.linear / 32]--;
  emu_switch(&f.sp, scheduler);
}

// prepare sets up f's stack so that switching to it enters start: below a 16-byte aligned top,
// a return address for start (never used), start's address for emu_switch's ret, and the six
// registers emu_switch pops.
void prepare(Fiber& f) {
  uintptr_t top = (uintptr_t)(f.stack.data() + f.stack.size()) & ~(uintptr_t)15;
  void** sp = (void**)top;
  *--sp = nullptr;
  *--sp = (void*)start;
  for (int r = 0; r < 6; r++) *--sp = nullptr;
  f.sp = sp;
}

void arrive(int group) {
  Fiber& f = fibers[running];
  f.waiting = group;
  arrived[group]++;
  emu_switch(&f.sp, scheduler);
}

// release lets the fibers waiting at group's barrier go on.
void release(int group, int lo, int hi) {
  for (int i = lo; i < hi; i++) {
    if (fibers[i].waiting == group) fibers[i].waiting = -1;
  }
  arrived[group] = 0;
  if (group == 0) orSlot[++blockBarriers & 1] = 0;
}

// runBlock runs the threads of the current block to the end; it returns false when they
// cannot finish, some waiting at a barrier that the others will never reach. It runs one warp
// at a time, its fibers in turn, through its warp barriers up to the block's next barrier, then
// the next warp; when every thread is at the block's barrier, it releases them all.
bool runBlock(int threads) {
  const int warps = (threads + 31) / 32;
  members.assign(1 + warps, 0);
  arrived.assign(1 + warps, 0);
  members[0] = threads;
  blockBarriers = 0;
  orSlot[0] = orSlot[1] = 0;
  if ((int)fibers.size() < threads) fibers.resize(threads);
  for (int i = 0; i < threads; i++) {
    Fiber& f = fibers[i];
    f.stack.resize(stackBytes);
    f.index = {i % blockDim.x, (i / blockDim.x) % blockDim.y, i / (blockDim.x * blockDim.y)};
    f.linear = i;
    f.done = false;
    f.waiting = -1;
    members[1 + i / 32]++;
    prepare(f);
  }
  for (;;) {
    for (int w = 0; w < warps; w++) {
      const int lo = 32 * w, hi = std::min(threads, lo + 32);
      for (;;) {
        for (int i = lo; i < hi; i++) {
          Fiber& f = fibers[i];
          if (f.done || f.waiting >= 0) continue;
          running = i;
          threadIdx = f.index;
          emu_switch(&scheduler, f.sp);
        }
        if (arrived[1 + w] == 0 || arrived[1 + w] < members[1 + w]) break;
        release(1 + w, lo, hi);
      }
    }
    if (members[0] == 0) return true;
    if (arrived[0] < members[0]) return false;
    release(0, 0, threads);
  }
}

template <class T>
T shuffleXor(T v, int laneMask) {
  const int me = fibers[running].linear, warp = me / 32;
  exchange[me] = v;
  arrive(1 + warp);
  const T r = (T)exchange[warp * 32 + ((me % 32) ^ laneMask)];
  arrive(1 + warp);
  return r;
}

}  // namespace

void __syncthreads() { arrive(0); }

int __syncthreads_or(int predicate) {
  const int slot = blockBarriers & 1;
  if (predicate) orSlot[slot] = 1;
  arrive(0);
  return orSlot[slot];
}

float __shfl_xor_sync(unsigned, float v, int laneMask) { return shuffleXor(v, laneMask); }
double __shfl_xor_sync(unsigned, double v, int laneMask) { return shuffleXor(v, laneMask); }

extern "C" int emu_kernels(void) { return sizeof kernels / sizeof kernels[0]; }
extern "C" const char* emu_kernel(int i) { return kernels[i].name; }

extern "C" int emu_launch(const char* name, int gx, int gy, int gz, int bx, int by, int bz, int shared,
                          uint64_t* slots, int n, char* err, int errlen) {
  invoke = nullptr;
  for (const Kernel& k : kernels) {
    if (std::strcmp(k.name, name) == 0) invoke = k.invoke;
  }
  if (!invoke) {
    std::snprintf(err, errlen, "the emulator has no kernel %s", name);
    return 1;
  }
  const int threads = bx * by * bz;
  if (threads > 1024) {
    std::snprintf(err, errlen, "%s: %d threads in a block, more than 1024", name, threads);
    return 1;
  }
  std::vector<void*> p(n);
  for (int i = 0; i < n; i++) p[i] = &slots[i];
  params = p.data();
  std::vector<double> dynamic((shared + 7) / 8 + 1);
  emu_dynamic_shared = reinterpret_cast<unsigned char*>(dynamic.data());
  gridDim = {(unsigned)gx, (unsigned)gy, (unsigned)gz};
  blockDim = {(unsigned)bx, (unsigned)by, (unsigned)bz};
  for (int z = 0; z < gz; z++) {
    for (int y = 0; y < gy; y++) {
      for (int x = 0; x < gx; x++) {
        blockIdx = {(unsigned)x, (unsigned)y, (unsigned)z};
        if (!runBlock(threads)) {
          std::snprintf(err, errlen, "%s: block (%d,%d,%d) deadlocks: some threads wait at a barrier the others never reach",
                        name, x, y, z);
          return 1;
        }
      }
    }
  }
  return 0;
}
