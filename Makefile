# Slipway. Run `make help` for the targets.

GO        ?= go
BIN       := bin/slipway
PKGS      := ./...
# The demo's signing key is for the demo only; its password is not a secret.
DEMO_PASSWORD ?= slipway-demo
GOFLAGS   ?=
export GOFLAGS

.PHONY: help build test demo bench bench-train bench-serve fmt lint golden fuzz clean interop

help: ## show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## build the CLI to bin/slipway (static, so `slipway image build` can put it in the runtime image)
	CGO_ENABLED=0 $(GO) build -o $(BIN) ./cmd/slipway

test: ## run every test (vet, gofmt check, unit, golden, CLI scripts, short fuzz seeds)
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) test -count=1 $(PKGS)

demo: build ## the churn example end to end: validate, compile every target, train, evaluate, gate, pack and sign it locally
	$(BIN) validate examples/churn
	$(BIN) graph examples/churn --format mermaid
	$(BIN) compile examples/churn --target all --out build/churn
	@echo "demo: compiled examples/churn into build/churn"
	@test -f .slipway/keys/cosign.key || COSIGN_PASSWORD=$(DEMO_PASSWORD) $(BIN) keys generate --out .slipway/keys
	COSIGN_KEY=.slipway/keys/cosign.key COSIGN_PASSWORD=$(DEMO_PASSWORD) $(BIN) run examples/churn
	$(BIN) model list
	$(BIN) model verify churn --key .slipway/keys/cosign.pub

bench: ## benchmarks: validate+compile of the examples and 200 generated pipelines, against cue export
	bash bench/go-bench.sh
	bash bench/cue-export.sh

bench-train: ## train our models and the peers on the same data (see BENCHMARKS.md)
	bash bench/train/run.sh

bench-serve: ## wrk against slipway serve and the FastAPI + scikit-learn baseline, same run (see BENCHMARKS.md)
	bash bench/serve/run.sh

fmt: ## format the Go code
	gofmt -w $$(git ls-files '*.go')

lint: ## go vet and gofmt check
	$(GO) vet $(PKGS)
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)

golden: ## rewrite the golden files (compiled targets, run report)
	$(GO) test -count=1 ./compiler/ ./backends/argo ./backends/githubactions ./backends/helm ./backends/local ./runners/report ./runners/pipeline ./compiler/plan/view ./compiler/plan/internal/plantest -run Golden -update

fuzz: ## run each fuzz target for FUZZTIME (default 30s)
	$(GO) test -run '^$$' -fuzz FuzzCompile -fuzztime $${FUZZTIME:-30s} ./compiler/
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime $${FUZZTIME:-30s} ./compiler/lock/
	$(GO) test -run '^$$' -fuzz FuzzParseCron -fuzztime $${FUZZTIME:-30s} ./compiler/check/
	$(GO) test -run '^$$' -fuzz FuzzParseSource -fuzztime $${FUZZTIME:-30s} ./compiler/check/

interop: ## build cosign v3.1.2 (pinned in tools.mod) into bin/cosign and test our signatures against it
	$(GO) build -modfile=tools.mod -o bin/cosign github.com/sigstore/cosign/v3/cmd/cosign
	COSIGN=$(abspath bin/cosign) $(GO) test -count=1 -tags interop -run Cosign ./runners/signing/

clean: ## remove build outputs
	rm -rf bin build

PTX_SRC := $(shell find runners/train/gpu -name '*.cu' 2>/dev/null | sort)
PTX_CC  ?= clang-16
PTX_FLAGS := -x cuda --cuda-device-only --cuda-gpu-arch=sm_80 -nocudainc -nocudalib -O3 -S

.PHONY: ptx ptx-check

ptx: ## compile the GPU kernels (runners/train/gpu/**/*.cu) to the embedded PTX with clang-16
	@for f in $(PTX_SRC); do echo "$(PTX_CC) $$f"; $(PTX_CC) $(PTX_FLAGS) $$f -o $${f%.cu}.ptx.tmp && mv $${f%.cu}.ptx.tmp $${f%.cu}.ptx || exit 1; done

ptx-check: ## fail if a committed .ptx differs from what `make ptx` would build
	@tmp=$$(mktemp -d); status=0; \
	for f in $(PTX_SRC); do \
	  $(PTX_CC) $(PTX_FLAGS) $$f -o $$tmp/out.ptx || { status=1; continue; }; \
	  if ! cmp -s $$tmp/out.ptx $${f%.cu}.ptx; then echo "ptx-check: $${f%.cu}.ptx is stale or missing: run 'make ptx' and commit it"; status=1; fi; \
	done; rm -rf $$tmp; exit $$status

.PHONY: gpu-host bench-gpu
gpu-host: ## run the MLP kernel source on the host (clang++-16, real threads and barriers) against its emulator
	$(GO) test -count=1 -tags hostkern -run TestKernelSourceOnHost ./runners/train/gpu/mlp/

bench-gpu: ## on a machine with an NVIDIA GPU: bench/gpu.sh (our kernels and the PyTorch anchors, same run)
	bash bench/gpu.sh

.PHONY: race
race: ## the race detector over the runners and the compiler
	$(GO) test -race -count=1 ./runners/... ./compiler/...
