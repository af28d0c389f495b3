package docs_test

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v4"
	"gopkg.in/ini.v1"

	"github.com/offload-dev/offload/config"
)

// TestJetStreamGuide keeps docs/jetstream.md's examples true: the offload
// configuration parses and runs the JetStream inbox and ledger, the compose
// file parses and wires MinIO to the subject offload reads, and the systemd
// unit parses and runs offload serve.
func TestJetStreamGuide(t *testing.T) {
	raw, err := os.ReadFile("jetstream.md")
	if err != nil {
		t.Fatal(err)
	}
	md := string(raw)
	blocks := regexp.MustCompile("(?s)```(yaml|ini)\n(.*?)```").FindAllStringSubmatch(md, -1)
	var cfg *config.Config
	var compose, unit string
	for _, b := range blocks {
		switch {
		case b[1] == "ini":
			unit = b[2]
		case strings.HasPrefix(b[2], "services:"):
			compose = b[2]
		default:
			c, err := config.Parse("jetstream.md", []byte(b[2]))
			if err != nil {
				t.Fatalf("the configuration in jetstream.md: %v", err)
			}
			cfg = c
		}
	}
	if cfg == nil || compose == "" || unit == "" {
		t.Fatalf("jetstream.md: got config %v, compose %d bytes, unit %d bytes; want all three", cfg != nil, len(compose), len(unit))
	}
	if cfg.Inbox.Driver != "nats" || cfg.State.Driver != "nats" || cfg.Inbox.Replicas != 3 {
		t.Errorf("configuration: got inbox %s, state %s, replicas %d; want nats, nats, 3", cfg.Inbox.Driver, cfg.State.Driver, cfg.Inbox.Replicas)
	}

	var c struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Command     []string          `yaml:"command"`
			Environment map[string]string `yaml:"environment"`
			DependsOn   []string          `yaml:"depends_on"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal([]byte(compose), &c); err != nil {
		t.Fatalf("compose file: %v", err)
	}
	for _, name := range []string{"offload-1", "offload-2", "offload-3"} {
		s, ok := c.Services[name]
		if !ok || !slices.Equal(s.Command[:1], []string{"serve"}) || !slices.Contains(s.DependsOn, "nats") {
			t.Errorf("compose: service %s is %+v; want offload serve depending on nats", name, s)
		}
	}
	if n := c.Services["nats"]; !slices.Contains(n.Command, "-js") {
		t.Errorf("compose: nats runs %v, want JetStream on (-js)", n.Command)
	}
	env := c.Services["minio"].Environment
	want := map[string]string{
		"MINIO_NOTIFY_NATS_ENABLE_OFFLOAD":    "on",
		"MINIO_NOTIFY_NATS_ADDRESS_OFFLOAD":   "nats:4222",
		"MINIO_NOTIFY_NATS_SUBJECT_OFFLOAD":   cfg.Inbox.Subject,
		"MINIO_NOTIFY_NATS_JETSTREAM_OFFLOAD": "on",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("compose: minio's %s is %q, want %q", k, env[k], v)
		}
		if !strings.Contains(md, k[:len(k)-len("_OFFLOAD")]) {
			t.Errorf("jetstream.md does not name %s in its MinIO settings", k)
		}
	}

	f, err := ini.Load([]byte(unit))
	if err != nil {
		t.Fatalf("systemd unit: %v", err)
	}
	if got := f.Section("Service").Key("ExecStart").String(); !strings.Contains(got, "offload serve --config ") {
		t.Errorf("systemd unit: ExecStart=%q, want offload serve --config", got)
	}
	if got := f.Section("Install").Key("WantedBy").String(); got != "multi-user.target" {
		t.Errorf("systemd unit: WantedBy=%q, want multi-user.target", got)
	}
}
