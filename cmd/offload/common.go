package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/offload-dev/offload/config"
	"github.com/offload-dev/offload/event"
)

// commonFlags are the flags every command that reads a configuration takes.
type commonFlags struct {
	config string
	json   bool // JSON logs
}

func (c *commonFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.config, "config", os.Getenv("OFFLOAD_CONFIG"), "configuration file (default $OFFLOAD_CONFIG; none: the embedded defaults)")
	fs.BoolVar(&c.json, "log-json", false, "write logs as JSON")
}

func (c *commonFlags) load() (*config.Config, error) {
	if c.config == "" {
		return config.Default(), nil
	}
	return config.Load(c.config)
}

func (c *commonFlags) logger(w io.Writer) *slog.Logger {
	if c.json {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

func newFlagSet(name string, stderr io.Writer, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: offload %s\n\nflags:\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

// readEvents reads events from a file or stdin ("-"): one JSON payload (a
// Lambda event or a webhook body), a JSON array of payloads, or one payload
// per line.
func readEvents(name string, stdin io.Reader) ([]event.Change, error) {
	var data []byte
	var err error
	switch name {
	case "":
		return nil, errors.New("--events is required (a file, or - for standard input)")
	case "-":
		data, err = io.ReadAll(stdin)
	default:
		data, err = os.ReadFile(name)
	}
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, fmt.Errorf("read events: %s is empty", name)
	}
	var changes []event.Change
	add := func(payload []byte) {
		for _, c := range event.Decode(payload) {
			c.Record = len(changes)
			changes = append(changes, c)
		}
	}
	if data[0] == '[' {
		var payloads []json.RawMessage
		if err := json.Unmarshal(data, &payloads); err != nil {
			return nil, fmt.Errorf("read events: %s: %w", name, err)
		}
		for _, p := range payloads {
			add(p)
		}
		return changes, nil
	}
	if json.Valid(data) {
		add(data)
		return changes, nil
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		if line := bytes.TrimSpace(sc.Bytes()); len(line) > 0 {
			add(line)
		}
	}
	return changes, sc.Err()
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// configError prints a configuration error and returns the usage code.
func configError(stderr io.Writer, err error) int {
	fmt.Fprintln(stderr, "offload:", err)
	return exitUsage
}
