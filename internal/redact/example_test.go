package redact_test

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/offload-dev/offload/internal/redact"
)

// A provider's error that echoes the token, in part: what leaves the
// process shows none of it.
func Example() {
	r := redact.New()
	r.Add("cf-tok-7Qk2pZ9xW3mN8vR1") // as config.Resolver resolves it
	fmt.Println(r.String(`cloudflare: 403 Forbidden: 10000 Authentication error: token "cf-tok-7Qk2pZ9x…" is not valid`))

	// Logs written through it are redacted too.
	logger := slog.New(slog.NewTextHandler(r.Writer(os.Stdout), &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	logger.Error("purge failed", "err", "bad key cf-tok-7Qk2pZ9xW3mN8vR1")
	// Output:
	// cloudflare: 403 Forbidden: 10000 Authentication error: token "[REDACTED]…" is not valid
	// level=ERROR msg="purge failed" err="bad key [REDACTED]"
}
