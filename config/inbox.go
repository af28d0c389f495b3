package config

import (
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
)

func (c *Config) fillInbox() {
	in := &c.Inbox
	in.Driver = cmpOr(in.Driver, "bolt")
	if c.State.Driver == "nats" {
		c.State.Bucket = cmpOr(c.State.Bucket, "offload-ledger")
	}
	if in.MaxDeliveries == 0 {
		in.MaxDeliveries = 10
	}
	if in.Driver != "nats" {
		return
	}
	in.Stream = cmpOr(in.Stream, "OFFLOAD")
	in.Subject = cmpOr(in.Subject, "offload.events")
	in.Consumer = cmpOr(in.Consumer, "offload")
	in.DeadLetterStream = cmpOr(in.DeadLetterStream, "OFFLOAD_DEAD")
	in.DeadLetterSubject = cmpOr(in.DeadLetterSubject, "offload.dead")
	if in.AckWait.Duration == 0 {
		in.AckWait.Duration = 30 * time.Second
	}
	if in.Replicas == 0 {
		in.Replicas = 1
	}
}

// Compiled on first use, not in package init: the Lambda bootstrap's cold
// start pays for every package-level regexp, and only a nats configuration
// needs these.
var (
	// JetStream names: no whitespace, dots or wildcards.
	natsName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_-]+$`) })
	// A subject: dot-separated tokens, none empty; * or > whole tokens.
	natsToken = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([^.*>\s]+|\*|>)$`) })
)

// validateInbox checks the inbox and the nats state driver. Its settings
// are checked only with inbox.driver nats, as state.table is only used by
// dynamodb.
func (v *validator) validateInbox(c *Config) {
	in := c.Inbox
	switch in.Driver {
	case "bolt", "nats":
	default:
		v.add("inbox.driver", v.at("inbox", "driver"), "%q is not an inbox driver: use bolt or nats", in.Driver)
	}
	if c.State.Driver == "nats" && in.Driver != "nats" {
		v.add("state.driver", v.at("state", "driver"), "nats keeps the ledger on the inbox's NATS connection: set inbox.driver: nats and inbox.url")
	}
	if c.State.Bucket != "" && !natsName().MatchString(c.State.Bucket) {
		v.add("state.bucket", v.at("state", "bucket"), "%q is not a key-value bucket name: use letters, digits, - and _", c.State.Bucket)
	}
	if in.Driver != "nats" {
		v.deadLetters(in)
		return
	}
	if in.URL == "" {
		v.add("inbox.url", v.at("inbox"), "required by driver nats: the NATS server, such as nats://127.0.0.1:4222 (comma-separated for a cluster)")
	}
	for _, u := range strings.Split(in.URL, ",") {
		if in.URL == "" {
			break
		}
		p, err := url.Parse(strings.TrimSpace(u))
		switch {
		case err != nil || p.Host == "" || (p.Scheme != "nats" && p.Scheme != "tls" && p.Scheme != "ws" && p.Scheme != "wss"):
			v.add("inbox.url", v.at("inbox", "url"), "%q is not a NATS server URL: write nats://host:4222 or tls://host:4222, comma-separated for a cluster", short(strings.TrimSpace(u)))
		case p.User != nil:
			// Never quote it: it holds a secret.
			v.add("inbox.url", v.at("inbox", "url"), "a URL with a user or password in it: set inbox.user and inbox.password (a secret reference), or inbox.token, instead")
		}
	}
	for _, f := range []struct{ field, val string }{{"stream", in.Stream}, {"consumer", in.Consumer}, {"dead_letter_stream", in.DeadLetterStream}} {
		if !natsName().MatchString(f.val) {
			v.add("inbox."+f.field, v.at("inbox", f.field), "%q is not a JetStream name: use letters, digits, - and _", f.val)
		}
	}
	for _, f := range []struct{ field, val string }{{"subject", in.Subject}, {"dead_letter_subject", in.DeadLetterSubject}} {
		for _, tok := range strings.Split(f.val, ".") {
			if !natsToken().MatchString(tok) {
				v.add("inbox."+f.field, v.at("inbox", f.field), "%q is not a subject: dot-separated tokens such as offload.events, without spaces", f.val)
				break
			}
		}
	}
	if in.Stream == in.DeadLetterStream {
		v.add("inbox.dead_letter_stream", v.at("inbox", "dead_letter_stream"), "%q is the inbox stream too: the dead letters need a stream of their own", in.DeadLetterStream)
	}
	if in.Subject == in.DeadLetterSubject {
		v.add("inbox.dead_letter_subject", v.at("inbox", "dead_letter_subject"), "%q is the inbox subject too: dead letters need a subject of their own", in.DeadLetterSubject)
	}
	v.deadLetters(in)
	if in.AckWait.Duration < 0 {
		v.add("inbox.ack_wait", v.at("inbox", "ack_wait"), "must not be negative (default 30s)")
	}
	if in.Replicas < 0 || in.Replicas > 5 {
		v.add("inbox.replicas", v.at("inbox", "replicas"), "%d: JetStream keeps 1 to 5 copies (default 1)", in.Replicas)
	}
	auths := 0
	for _, set := range []bool{in.Credentials != "", in.User != "" || in.Password != "", in.Token != ""} {
		if set {
			auths++
		}
	}
	if auths > 1 {
		v.add("inbox", v.at("inbox"), "set one way to authenticate: credentials, user and password, or token")
	}
	if (in.User == "") != (in.Password == "") {
		v.add("inbox.password", v.at("inbox"), "set inbox.user and inbox.password together")
	}
	if in.Password != "" {
		v.secret(in.Password, "inbox.password", "inbox", "password")
	}
	if in.Token != "" {
		v.secret(in.Token, "inbox.token", "inbox", "token")
	}
	if (in.TLSCert == "") != (in.TLSKey == "") {
		v.add("inbox.tls_key", v.at("inbox"), "set inbox.tls_cert and inbox.tls_key together")
	}
}

// deadLetters checks when a failing event becomes a dead letter, for
// either driver.
func (v *validator) deadLetters(in Inbox) {
	if in.MaxDeliveries < 0 {
		v.add("inbox.max_deliveries", v.at("inbox", "max_deliveries"), "must be 1 or more (default 10)")
	}
	if in.MaxAge.Duration < 0 {
		v.add("inbox.max_age", v.at("inbox", "max_age"), "must not be negative (default none)")
	}
}
