# A thin wrapper over CMake. `make run`: dependencies, build, demo, console.
# `make test`: test dependencies, build (normal and ASan+UBSan), every test.
BUILD      ?= build
ASAN_BUILD ?= build-asan
DEMO       ?= $(HOME)/.local/share/sluice/demo
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all build deps test-deps run test test-fast bench clean format docs

all: build

deps:
	@scripts/deps.sh run

test-deps:
	@scripts/deps.sh test

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	@[ -f "$(DEMO)/sluice.json" ] || $(BUILD)/sluice demo "$(DEMO)" --no-open >/dev/null
	@$(BUILD)/sluice -c "$(DEMO)/sluice.json" tui

test: test-deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD) -j $(JOBS)
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSLUICE_SANITIZE=ON
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --output-on-failure -j $(JOBS)

# Normal build only, for quick iterations.
test-fast: test-deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD) -j $(JOBS)
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# Parquet benchmarks against DuckDB (figures, not tests): see docs/performance.md.
bench: deps
	bench/run.sh

docs: build
	$(BUILD)/sluice errors --markdown > docs/errors.md

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-bench
