# The two commands a new user needs: `make demo` and `make test`.
# Everything builds into build/ with CMake; this file only orchestrates.

BUILD    ?= build
JOBS     ?= $(shell nproc)
# UNITY=ON compiles each library's sources in batches (CMAKE_UNITY_BUILD):
# half the compile time of a full build, as .ci/run does four of them, but a
# change to one file recompiles its whole batch, so it is off for working.
UNITY    ?= OFF
CMAKE_COMMON := -DTANDEM_WERROR=ON -DCMAKE_UNITY_BUILD=$(UNITY)
# prometheus: promtool and a Prometheus server for tests/integration/monitoring_test;
# dpkg-dev: dpkg-shlibdeps for the dependencies of `make package`.
PACKAGES := cmake make g++ libboost-dev zlib1g-dev libxxhash-dev libssl-dev libgtest-dev \
            libgmock-dev libbenchmark-dev nlohmann-json3-dev libcli11-dev libjemalloc-dev prometheus \
            dpkg-dev pkgconf
FUZZ_PACKAGES := clang libclang-rt-14-dev
DEMO_PACKAGES := python3-matplotlib
PEER_PACKAGES := redis-server redis-tools postgresql

.PHONY: deps build demo test bench bench-peers fuzz sanitize tsan release package chaos clean

deps:
	@scripts/install-deps.sh $(PACKAGES)

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_COMMON) >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

demo: build
	@scripts/install-deps.sh $(DEMO_PACKAGES)
	@scripts/demo.sh $(BUILD)

test: build
	cd $(BUILD) && ctest --output-on-failure -j2

bench: build
	$(BUILD)/bench/journal_bench --benchmark_min_time=0.5
	$(BUILD)/tools/tandem-bench limits

# Tandem beside Redis in one run, same load shape (bench/peers.sh; issue 13).
PEER_SECONDS ?= 10
bench-peers: build
	@scripts/install-deps.sh $(PEER_PACKAGES)
	BUILD=$(BUILD) bench/peers.sh $(PEER_SECONDS)

# libFuzzer targets for every parser of untrusted bytes; FUZZ_SECONDS each.
FUZZ_SECONDS ?= 60
fuzz: deps
	@scripts/install-deps.sh $(FUZZ_PACKAGES)
	@CXX=clang++ cmake -S . -B build-fuzz -DTANDEM_FUZZ=ON -DTANDEM_WERROR=ON -DTANDEM_BUILD_TESTS=OFF \
	  -DTANDEM_BUILD_BENCHMARKS=OFF >/dev/null
	@cmake --build build-fuzz -j$(JOBS)
	@scripts/run-fuzzers.sh build-fuzz $(FUZZ_SECONDS)

# The whole test suite under AddressSanitizer and UndefinedBehaviorSanitizer.
sanitize: deps
	@cmake -S . -B build-asan $(CMAKE_COMMON) -DTANDEM_SANITIZE=address,undefined -DTANDEM_BUILD_BENCHMARKS=OFF \
	  -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build build-asan -j$(JOBS)
	cd build-asan && ctest --output-on-failure -j2

# The whole test suite under ThreadSanitizer, built with clang so that
# -Wthread-safety also checks the locking annotations (journal/mutex.h).
tsan: deps
	@scripts/install-deps.sh $(FUZZ_PACKAGES)
	@CXX=clang++ cmake -S . -B build-tsan $(CMAKE_COMMON) -DTANDEM_SANITIZE=thread -DTANDEM_BUILD_BENCHMARKS=OFF \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build build-tsan -j$(JOBS)
	cd build-tsan && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" ctest --output-on-failure -j2

# What a packager builds: Release (-O3, whose GCC warnings differ), without
# the tests, with warnings as errors. RELEASE_TESTS=ON builds the tests too.
RELEASE_TESTS ?= OFF
release: deps
	@cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release $(CMAKE_COMMON) \
	  -DTANDEM_BUILD_TESTS=$(RELEASE_TESTS) -DTANDEM_BUILD_BENCHMARKS=$(RELEASE_TESTS) >/dev/null
	@cmake --build build-release -j$(JOBS)

# A Debian package of the Release build: build-release/tandem_VERSION_amd64.deb.
package: release
	@cd build-release && cpack -G DEB >/dev/null
	@ls build-release/tandem_*_amd64.deb

# The randomized fault harness: CYCLES cycles from SEED (tests/chaos/chaos.cc).
CYCLES ?= 30
SEED   ?= 1
chaos: build
	$(BUILD)/tests/chaos/tandem-chaos --cycles $(CYCLES) --seed $(SEED)

clean:
	rm -rf $(BUILD) build-fuzz build-asan build-tsan demo-run
