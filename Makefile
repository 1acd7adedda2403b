# vigil: eBPF sensor -> NATS -> Rego engine -> findings.
#
# The two commands a fresh clone needs:
#   make run    build and run vigil (sensor + engine + embedded NATS; needs root)
#   make test   vet, unit and end-to-end tests, and the shipped signatures' tests

GO          ?= go
BIN         := bin/vigil
TEST_TIMEOUT ?= 30m
# go test runs packages in parallel; the machine this was built on has 2 cores
# and the end-to-end test compiles nats-server, so keep it modest.
TEST_P      ?= 2
RUN_ARGS    ?=

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: generate
generate: ## regenerate the BPF objects (installs clang/llvm/libbpf-dev when clang is missing)
	@command -v clang >/dev/null 2>&1 || { \
		echo "clang not found: installing clang, llvm, libbpf-dev with apt-get"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang llvm libbpf-dev; }
	$(GO) generate ./bpf/...

.PHONY: build
build: ## build bin/vigil
	$(GO) build -o $(BIN) ./cmd/vigil

.PHONY: test
test: build ## go vet, all Go tests (root-only tests run as root), vigil test over the shipped signatures
	$(GO) vet ./... ./testdata/triggers/...
	$(GO) test -p $(TEST_P) -timeout $(TEST_TIMEOUT) -count=1 ./...
	./$(BIN) test

.PHONY: run
run: build ## build and run vigil: sensor, engine and an embedded NATS server on 127.0.0.1:4222
	./$(BIN) run $(RUN_ARGS)

.PHONY: bench
bench: ## engine benchmarks: vigil's dispatch against a naive baseline in the same run
	@# BenchmarkDispatch replays a whole corpus (~1M events) per iteration: once is the measurement.
	$(GO) test -run '^$$' -bench '^BenchmarkDispatch$$' -benchtime=1x -benchmem -timeout $(TEST_TIMEOUT) ./engine/...
	$(GO) test -run '^$$' -bench . -skip '^BenchmarkDispatch$$' -benchmem -timeout $(TEST_TIMEOUT) ./engine/...

.PHONY: bench-sensor
bench-sensor: build triggers ## (root) what vigil costs the host: syscalls, opens, execs bare and under vigil run, drops, CPU, RSS, finding latency
	$(GO) run ./internal/benchsensor $(BENCH_ARGS)

.PHONY: vmtest
vmtest: ## boot stock Debian kernels under qemu and run the sensor's privileged tests there
	bash sensor/vmtest/vmtest.sh

.PHONY: triggers
triggers: ## build the trigger programs used by the end-to-end test into bin/triggers
	@mkdir -p bin/triggers
	CGO_ENABLED=0 $(GO) build -o bin/triggers/ ./testdata/triggers/...

.PHONY: clean
clean: ## remove build output
	rm -rf bin
