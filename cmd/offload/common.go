//go:build !offload_lambda

package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/offload-dev/offload/config"
	"github.com/offload-dev/offload/event"
)

// commonFlags are the flags every command that reads a configuration takes.
type commonFlags struct {
	config string
	json   bool // JSON logs
}

func (c *commonFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.config, "config", "", configUsage)
	fs.BoolVar(&c.json, "log-json", false, "write logs as JSON")
}

func (c *commonFlags) logger(w io.Writer) *slog.Logger {
	if c.json {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// configLookup is the rule loadConfig follows, as the help states it.
const (
	configLookup = "--config F, else $" + envConfigFile + ", else the embedded defaults (state in\n" +
		"  ./offload.db, one site for every bucket, and a dry-run target that logs the\n" +
		"  purges it would send)."
	configUsage = "the configuration `file` (default $" + envConfigFile + ", else the embedded defaults)"
)

// loadConfig finds the command line's configuration: the file given by
// --config, else the one $OFFLOAD_CONFIG names, else the embedded defaults.
// (The Lambda bootstrap has its own rule: lambdaConfigSpec.)
func loadConfig(flagValue string) (*config.Config, error) {
	file := flagValue
	if file == "" {
		file = os.Getenv(envConfigFile)
	}
	if file == "" {
		return config.Default(), nil
	}
	return config.Load(file)
}

// configName names where cfg came from, for messages.
func configName(cfg *config.Config) string {
	if cfg.IsDefault() {
		return "the embedded defaults"
	}
	return cfg.File
}

// readEvents decodes events from a file or stdin ("-") into s as they are
// read: one JSON payload (a Lambda event or a webhook body), a JSON array
// of payloads, or one payload per line.
func readEvents(name string, stdin io.Reader, s event.Sink) error {
	r := stdin
	if name == "-" {
		name = "standard input"
	} else {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("read events: %w", err)
		}
		defer f.Close()
		r = f
	}
	if size, large := largeInput(r); large {
		hugeHeap(heapFor(size))
	}
	if err := event.Read(r, s); err != nil {
		if errors.Is(err, event.ErrEmpty) {
			return fmt.Errorf("read events: %s is empty", name)
		}
		return fmt.Errorf("read events: %s: %s", name, strings.TrimPrefix(err.Error(), "event: "))
	}
	return nil
}

// hugeInputBytes is the input from which plan and apply back their heap
// with huge pages (hugeHeap): about 10,000 S3 records in SQS messages, one
// Lambda batch of the largest size. Below it the forced collection costs
// more than the faults it saves (3 records: 40 → 48 ms CPU).
const hugeInputBytes = 4 << 20

// largeInput reports whether r is at least hugeInputBytes long, and its
// size; a pipe, whose length is not known, counts as large (size -1).
func largeInput(r io.Reader) (size int64, large bool) {
	f, ok := r.(*os.File)
	if !ok {
		return 0, false
	}
	fi, err := f.Stat()
	if err != nil {
		return 0, false
	}
	if !fi.Mode().IsRegular() {
		return -1, fi.Mode()&os.ModeNamedPipe != 0
	}
	return fi.Size(), fi.Size() >= hugeInputBytes
}

// heapFor is the heap hugeHeap prepares for an input of size bytes (-1:
// unknown): one and a half times the input, at least 64 MiB, at most 1 GiB.
// 100,000 records, 42.8 MB, peak at 54 MiB.
func heapFor(size int64) int {
	return int(min(max(size+size/2, 64<<20), 1<<30))
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
