# The two commands a new user types. Everything else is CMake and CTest.
BUILD_DIR ?= build
JOBS ?= 2
CMAKE_FLAGS ?=

.PHONY: all deps build demo test bench clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

build: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

demo: build
	scripts/demo.sh $(BUILD_DIR)/bin

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 600

bench: build
	$(BUILD_DIR)/bin/gauntlet_bench_expand_persist
	$(BUILD_DIR)/bin/gauntlet_bench_board
	$(BUILD_DIR)/bin/gauntlet_bench_cpu_matmul
	$(BUILD_DIR)/bin/gauntlet_bench_cpu_attention
	$(BUILD_DIR)/bin/gauntlet_bench_tokenizer

clean:
	rm -rf $(BUILD_DIR)
