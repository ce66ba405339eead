# Thin wrapper over CMake. `make demo` and `make test` are the README's quick start.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=
PREFIX ?= /usr/local
DESTDIR ?=

.PHONY: all deps build demo test test-asan test-tsan bench format clean install

all: build

deps:
	@sh scripts/deps.sh

build: deps
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLLM_TESTS=OFF $(CMAKE_FLAGS) >/dev/null
	@cmake --build build -j $(JOBS) --target llmload

demo: build
	./build/llmload --demo

# The optimized binary first (its -O2 warnings differ from the debug builds', and -Werror
# must hold for what `make demo` builds), then the whole suite under ASan+UBSan, then the
# threaded tests under TSan. A failed test is run once more (and reported as failed in the
# log) because the end-to-end tests assert timings (TTFT within a few ms, in-flight within
# 100 ms) on a shared 2-core machine.
test: deps build test-asan test-tsan

test-asan:
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DLLM_ASAN=ON $(CMAKE_FLAGS) >/dev/null
	@cmake --build build-asan -j $(JOBS)
	cd build-asan && ctest --output-on-failure -j $(JOBS) --repeat until-pass:2

test-tsan:
	@cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DLLM_TSAN=ON $(CMAKE_FLAGS) >/dev/null
	@cmake --build build-tsan -j $(JOBS)
	cd build-tsan && ctest --output-on-failure -L threaded --repeat until-pass:2

bench: deps
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLLM_TESTS=OFF $(CMAKE_FLAGS) >/dev/null
	@cmake --build build -j $(JOBS)
	sh bench/run_all.sh

# The binary, its themes, the man page and the bash/zsh completions under PREFIX (default
# /usr/local), staged under DESTDIR when given: `make install PREFIX=/usr DESTDIR=/tmp/stage`.
install: deps
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLLM_TESTS=OFF \
		-DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_FLAGS) >/dev/null
	@cmake --build build -j $(JOBS) --target llmload llm_docs
	DESTDIR=$(DESTDIR) cmake --install build

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan build-tsan
