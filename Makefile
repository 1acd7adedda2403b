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
FUZZ_TIME   ?= 15s

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: generate
generate: ## regenerate the event header, typed views, probe table and object list (event table, bpf/*.bpf.c), then the BPF objects (installs clang/llvm/libbpf-dev when clang is missing)
	@command -v clang >/dev/null 2>&1 || { \
		echo "clang not found: installing clang, llvm, libbpf-dev with apt-get"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang llvm libbpf-dev; }
	$(GO) generate ./event/ ./bpf/...

.PHONY: build
build: ## build bin/vigil
	$(GO) build -o $(BIN) ./cmd/vigil

.PHONY: test
test: build ## go vet, all Go tests (root-only tests run as root), vigil test over the shipped signatures
	@# reflink copies (FICLONE) are tested on a loop-mounted btrfs image: as root, install its mkfs
	@if [ "$$(id -u)" = 0 ] && ! command -v mkfs.btrfs >/dev/null 2>&1; then \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq btrfs-progs >/dev/null) || \
		echo "btrfs-progs could not be installed: TestSensorSeesFileCopies will not test FICLONE"; fi
	$(GO) vet ./... ./testdata/triggers/...
	@# the output is kept so that a failure is named again at the very end, where a log's tail shows it
	@log=$$(mktemp); { $(GO) test -p $(TEST_P) -timeout $(TEST_TIMEOUT) -count=1 ./... 2>&1; echo $$? >"$$log.rc"; } | tee "$$log"; \
		rc=$$(cat "$$log.rc"); if [ "$$rc" != 0 ]; then \
			echo "=== go test failed (exit $$rc); the failing tests and what they said:"; \
			grep -E -A 25 '^[[:space:]]*--- FAIL|^panic:|^FAIL[[:space:]]' "$$log" | grep -v '^{"level"' | head -300; fi; \
		rm -f "$$log" "$$log.rc"; exit $$rc
	@# the fast path's promise (rejected => Rego yields nothing) on arbitrary input, briefly
	$(GO) test -run '^$$' -fuzz '^FuzzFastPath$$' -fuzztime=$(FUZZ_TIME) -parallel 1 ./engine/
	@# validating an event without building it says what decoding it says
	$(GO) test -run '^$$' -fuzz '^FuzzValidateEvent$$' -fuzztime=$(FUZZ_TIME) -parallel 1 ./engine/
	@# the literal-set matcher says what regexp says, on any pattern and text
	$(GO) test -run '^$$' -fuzz '^FuzzLiteralMatcher$$' -fuzztime=$(FUZZ_TIME) -parallel 1 ./rules/
	@# the planned reading of an event's JSON reads what the full index reads
	$(GO) test -run '^$$' -fuzz '^FuzzPlannedDoc$$' -fuzztime=$(FUZZ_TIME) -parallel 1 ./rules/
	./$(BIN) test

.PHONY: run
run: build ## build and run vigil: sensor, engine and an embedded NATS server on 127.0.0.1:4222
	./$(BIN) run $(RUN_ARGS)

.PHONY: bench
bench: ## engine benchmarks: the captured corpus through vigil, full Rego and a naive engine in the same run
	@# BenchmarkReplay, BenchmarkDispatch and BenchmarkDNS replay a whole corpus per iteration: once is the measurement.
	$(GO) test -run '^$$' -bench '^BenchmarkReplay$$' -benchtime=1x -benchmem -timeout $(TEST_TIMEOUT) ./engine/
	$(GO) test -run '^$$' -bench '^BenchmarkDispatch$$' -benchtime=1x -benchmem -timeout $(TEST_TIMEOUT) ./engine/
	$(GO) test -run '^$$' -bench '^BenchmarkDNS$$' -benchtime=1x -timeout $(TEST_TIMEOUT) ./engine/
	$(GO) test -run '^$$' -bench . -skip '^Benchmark(Dispatch|Replay|DNS)$$' -benchmem -timeout $(TEST_TIMEOUT) ./engine/

.PHONY: bench-sensor
bench-sensor: build triggers ## (root) what vigil costs the host: syscalls, opens, execs bare and under vigil run, drops, CPU, RSS, finding latency
	$(GO) run ./internal/benchsensor $(BENCH_ARGS)

.PHONY: vmtest
vmtest: ## boot stock Debian kernels under qemu and run the sensor's privileged tests there
	bash internal/vmtest/vmtest.sh

.PHONY: triggers
triggers: ## build the trigger programs used by the end-to-end test into bin/triggers
	@mkdir -p bin/triggers
	CGO_ENABLED=0 $(GO) build -o bin/triggers/ ./testdata/triggers/...

.PHONY: clean
clean: ## remove build output
	rm -rf bin
