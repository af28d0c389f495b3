# offload — see README.md.
GO      ?= go
PKGS    ?= ./...
TIMEOUT ?= 30m

.PHONY: test test-deps check unit bench build bootstrap

## test: install what the tests need, then run every check and test (what CI runs)
test: test-deps check
	$(GO) test -race -count=1 -timeout $(TIMEOUT) $(PKGS)

test-deps:
	./scripts/test-deps.sh

## check: formatting and vet (on macOS too: every package, the test helpers included, builds there)
check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) vet -tags lambda.norpc,offload_lambda ./cmd/offload
	GOOS=darwin $(GO) vet $(PKGS)

## unit: the tests without the race detector, quicker while working
unit:
	$(GO) test -count=1 $(PKGS)

## bench: the Go benchmarks
bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

## bootstrap: the Lambda deployment package dist/offload-lambda.zip (provided.al2023, arm64);
## offload_lambda leaves out the commands, offload serve, NATS and the AWS SDK's config package
## (faster cold start; docs/configuration.md lists the AWS settings it reads)
bootstrap:
	@mkdir -p dist
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build -tags lambda.norpc,offload_lambda -trimpath -ldflags='-s -w' -o dist/bootstrap ./cmd/offload
	rm -f dist/offload-lambda.zip
	cd dist && zip -q -X offload-lambda.zip bootstrap
	@ls -l dist/bootstrap dist/offload-lambda.zip
