package main

import (
	"bufio"
	"bytes"
	"encoding/json"
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

// readEvents reads events from a file or stdin ("-"): one JSON payload (a
// Lambda event or a webhook body), a JSON array of payloads, or one payload
// per line.
func readEvents(name string, stdin io.Reader) ([]event.Change, error) {
	var data []byte
	var err error
	switch name {
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
		if name == "-" {
			name = "standard input"
		}
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
