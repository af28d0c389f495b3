package config

import (
	"strings"
	"testing"
	"time"
)

func TestInbox(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string // errors, each a prefix of one line; none: valid
	}{
		{"default is bolt", "sites: []\n", nil},
		{"nats with defaults", "inbox:\n  driver: nats\n  url: nats://127.0.0.1:4222\nstate:\n  driver: nats\n", nil},
		{"cluster and tls", "inbox:\n  driver: nats\n  url: tls://a:4222, tls://b:4222\n  tls_ca: ca.pem\n  tls_cert: c.pem\n  tls_key: k.pem\n  user: offload\n  password: env:NATS_PASSWORD\n", nil},
		{"bolt dead letters", "inbox:\n  max_deliveries: 3\n  max_age: 24h\n", nil},
		{"bolt bad dead letters", "inbox:\n  max_deliveries: -1\n  max_age: -1s\n",
			[]string{"c.yaml:2:19: inbox.max_deliveries: must be 1 or more", "c.yaml:3:12: inbox.max_age: must not be negative"}},
		{"bad driver", "inbox:\n  driver: kafka\n", []string{`c.yaml:2:11: inbox.driver: "kafka" is not an inbox driver: use bolt or nats`}},
		{"no url", "inbox:\n  driver: nats\n", []string{"c.yaml:2:3: inbox.url: required by driver nats"}},
		{"bad url", "inbox:\n  driver: nats\n  url: http://x\n", []string{`c.yaml:3:8: inbox.url: "http://x" is not a NATS server URL`}},
		{"password in url", "inbox:\n  driver: nats\n  url: nats://u:hunter2@x:4222\n", []string{"c.yaml:3:8: inbox.url: a URL with a user or password in it"}},
		{"nats state without nats inbox", "state:\n  driver: nats\n", []string{"c.yaml:2:11: state.driver: nats keeps the ledger on the inbox's NATS connection"}},
		{"bad names", "inbox:\n  driver: nats\n  url: nats://x:1\n  stream: a.b\n  subject: a..b\n  dead_letter_subject: a.b\n  max_deliveries: -1\n  replicas: 7\n",
			[]string{`c.yaml:4:11: inbox.stream: "a.b" is not a JetStream name`, `c.yaml:5:12: inbox.subject: "a..b" is not a subject`,
				"c.yaml:7:19: inbox.max_deliveries: must be 1 or more", "c.yaml:8:13: inbox.replicas: 7: JetStream keeps 1 to 5 copies"}},
		{"same subjects", "inbox:\n  driver: nats\n  url: nats://x:1\n  subject: a.b\n  dead_letter_subject: a.b\n", []string{`c.yaml:5:24: inbox.dead_letter_subject: "a.b" is the inbox subject too`}},
		{"two auths", "inbox:\n  driver: nats\n  url: nats://x:1\n  token: env:T\n  credentials: x.creds\n", []string{"c.yaml:2:3: inbox: set one way to authenticate"}},
		{"literal token", "inbox:\n  driver: nats\n  url: nats://x:1\n  token: s3cr3t-value\n", []string{"c.yaml:4:10: inbox.token: a secret is a reference, not the value"}},
		{"half a client cert", "inbox:\n  driver: nats\n  url: nats://x:1\n  tls_cert: c.pem\n", []string{"c.yaml:2:3: inbox.tls_key: set inbox.tls_cert and inbox.tls_key together"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("c.yaml", []byte(tt.yaml))
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Parse: got %v, want no error", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Parse: got %+v, want errors %q", c.Inbox, tt.want)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.want) {
				t.Fatalf("Parse: got %d errors:\n%s\nwant %d", len(lines), err, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(lines[i], w) {
					t.Errorf("error %d: got %q, want it to start with %q", i, lines[i], w)
				}
				if strings.Contains(lines[i], "hunter2") || strings.Contains(lines[i], "s3cr3t") {
					t.Errorf("error %d shows a secret: %q", i, lines[i])
				}
			}
		})
	}
}

func TestInboxDefaults(t *testing.T) {
	c, err := Parse("c.yaml", []byte("inbox:\n  driver: nats\n  url: nats://x:1\nstate:\n  driver: nats\n"))
	if err != nil {
		t.Fatal(err)
	}
	in := c.Inbox
	if in.Stream != "OFFLOAD" || in.Subject != "offload.events" || in.Consumer != "offload" || in.DeadLetterStream != "OFFLOAD_DEAD" ||
		in.DeadLetterSubject != "offload.dead" || in.MaxDeliveries != 10 || in.AckWait.Duration != 30*time.Second || in.Replicas != 1 || c.State.Bucket != "offload-ledger" {
		t.Errorf("defaults: got %+v, bucket %q", in, c.State.Bucket)
	}
	if d := Default(); d.Inbox.Driver != "bolt" || d.Inbox.URL != "" || d.Inbox.MaxDeliveries != 10 || d.Inbox.MaxAge.Duration != 0 {
		t.Errorf("embedded defaults: got inbox %+v, want driver bolt, dead letters after 10 attempts and nothing else", d.Inbox)
	}
}
