#!/usr/bin/env bash
# env.sh: what building erlgo's CUDA code needs on a machine without a GPU or a CUDA install.
#
# It creates (or reuses) the git-ignored .cuda/ in the project root: a Python virtual environment
# holding the pinned CUDA 13.0 wheels from PyPI (cuda.h, NVRTC, cuBLAS), a link directory with
# a generated libcuda.so stub and unversioned names for the wheels' libraries, and a copy of
# the headers alone (.cuda/include, 6 MB) for bench/gpu.sh on a GPU machine. It prints the
# environment that builds against them; use it as
#
#	eval "$(kernels/cuda/env.sh)"
#	go vet -tags gpu ./...                                     # compiles every GPU file
#	go test -tags gpu -c -o /tmp/gpu-tests/ ./...              # and links every test binary
#	LD_LIBRARY_PATH=$ERLGO_CUDA_LIB go test -tags nvrtc ./kernels/cuda/   # NVRTC-compiles every kernel
#
# The stub only satisfies the linker: its functions return CUDA_ERROR_NO_DEVICE, and its
# directory must never be on LD_LIBRARY_PATH. A binary built with -tags gpu runs only on a
# machine with NVIDIA's driver (see bench/gpu.sh).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
env_dir=$root/.cuda

# The CUDA 13.0 set, matching the GPU machine's driver 580 and nvcc 13.0; nvidia-cublas is the
# release that cuda-toolkit==13.0.2 pins. cu/nvrtc is not used (it returns no cubin), nor nvcc.
pins=(
  nvidia-cuda-runtime==13.0.96 # cuda.h and the runtime headers cuBLAS's include
  nvidia-cuda-crt==13.0.88     # crt/host_defines.h and friends, which cuda.h includes
  nvidia-cuda-nvrtc==13.0.88   # nvrtc.h, libnvrtc.so.13 and its builtins
  nvidia-cuda-cccl==13.0.85    # the CUDA C++ core headers that NVRTC's builtins expect
  nvidia-cublas==13.1.0.3      # cublas_v2.h, libcublas.so.13, libcublasLt.so.13
)

if [[ "$(cat "$env_dir/pins" 2>/dev/null)" != "${pins[*]}" ]]; then
  rm -rf "$env_dir"
  mkdir -p "$env_dir"
  echo "env.sh: installing ${pins[*]} into .cuda/venv ..." >&2
  python3 -m venv "$env_dir/venv" >&2
  if ! "$env_dir/venv/bin/pip" install --quiet --disable-pip-version-check --no-deps \
    --timeout 30 --retries 2 "${pins[@]}" >&2; then
    echo "env.sh: cannot install the CUDA 13.0 wheels from PyPI (is https://pypi.org reachable from here?);" \
      "the GPU code cannot be compiled, linked or NVRTC-checked without them" >&2
    rm -rf "$env_dir"
    exit 1
  fi
  echo "${pins[*]}" >"$env_dir/pins"
fi

header=$(find "$env_dir/venv" -path '*/nvidia/cu13/include/cuda.h' | head -n 1)
if [[ -z "$header" ]]; then
  echo "env.sh: the wheels in $env_dir/venv hold no nvidia/cu13/include/cuda.h; remove $env_dir and retry" >&2
  exit 1
fi
cu13=$(dirname "$(dirname "$header")")
compat=$root/kernels/cuda/compat

link=$env_dir/link
if [[ ! -f "$link/libcuda.so" ]]; then
  mkdir -p "$link"
  # Every cu… function that cuda.h declares, after its macros (and ours) have picked the
  # entry point each name stands for: the names a binary built against it can import.
  printf '#include <cuda.h>\n' | cc -E -P -I"$compat" -I"$cu13/include" -x c - |
    grep -oE '\bcu[A-Z][A-Za-z0-9_]*[[:space:]]*\(' | tr -d ' \t(' | sort -u |
    awk '{printf "int %s(void) { return 100; } /* CUDA_ERROR_NO_DEVICE */\n", $1}' >"$link/stub.c"
  cc -shared -fPIC -Wl,-soname,libcuda.so.1 -o "$link/libcuda.so.tmp" "$link/stub.c"
  ln -sf "$cu13/lib/libcublas.so.13" "$link/libcublas.so"
  ln -sf "$cu13/lib/libnvrtc.so.13" "$link/libnvrtc.so"
  mv "$link/libcuda.so.tmp" "$link/libcuda.so"
fi

# The headers alone (without CUDA C++'s libraries, which only NVRTC's own copy is for), small
# enough to carry to a GPU machine: bench/gpu.sh compiles against them when they are there.
if [[ ! -f "$env_dir/include/cuda.h" ]]; then
  rm -rf "$env_dir/include.tmp"
  mkdir -p "$env_dir/include.tmp"
  (cd "$cu13/include" && tar -cf - --exclude=./cccl .) | tar -xf - -C "$env_dir/include.tmp"
  mv "$env_dir/include.tmp" "$env_dir/include"
fi

printf 'export CGO_CFLAGS=%q\n' "-I$compat -I$cu13/include"
printf 'export CGO_LDFLAGS=%q\n' "-L$link -Wl,-rpath-link,$cu13/lib"
printf 'export ERLGO_CUDA_LIB=%q\n' "$cu13/lib"
