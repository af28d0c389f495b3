//go:build offload_lambda

package main

import (
	"context"
	"errors"

	"github.com/offload-dev/offload/ledger"
)

// The Lambda-only build links no NATS client: nats.go's package init, and
// encoding/gob's that it brings, ran on every cold start for a ledger made
// for serve replicas (DynamoDB is Lambda's).
type natsState struct{}

// errNoNATS is what state.driver nats gets in the Lambda-only build.
var errNoNATS = errors.New("state: driver nats is not in this bootstrap (built with -tags offload_lambda, for Lambda): use state.driver dynamodb, or build ./cmd/offload without offload_lambda")

func (d *deps) natsLedger(context.Context) (ledger.Ledger, error) { return nil, errNoNATS }

func (d *deps) closeNATS() {}
