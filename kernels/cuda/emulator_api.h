// emulator_api.h: what emulator.go calls of emulator.cpp.
#pragma once
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// emu_launch runs the kernel called name over a grid of gx×gy×gz blocks of bx×by×bz threads
// with shared bytes of dynamic shared memory; slots holds its n parameters, each in the low
// bytes of 8. It returns 0, or 1 with a message in err.
int emu_launch(const char* name, int gx, int gy, int gz, int bx, int by, int bz, int shared, uint64_t* slots, int n,
               char* err, int errlen);

// emu_kernels is the number of kernels the emulator holds, emu_kernel their names.
int emu_kernels(void);
const char* emu_kernel(int i);

#ifdef __cplusplus
}
#endif
