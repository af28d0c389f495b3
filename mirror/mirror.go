// Package mirror defines how offload copies a changed object to edge storage
// before the CDN is purged: the Mirror contract that mirror/netstorage and
// mirror/s3mirror implement.
package mirror

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"
)

// Object describes what is being put.
type Object struct {
	Key         string    // the object's key, relative to the mirror's directory
	Size        int64     // bytes; -1 when unknown
	ContentType string    // "" when unknown
	MD5         []byte    // the body's MD5, when known (S3's ETag of a single-part upload)
	SHA256      []byte    // the body's SHA-256, when known
	ModTime     time.Time // the object's last-modified time; zero when unknown
}

// Mirror copies objects to edge storage.
//
// Put streams body to the mirror under obj.Key, reading it once, in memory
// that does not grow with the object's size; a body of unknown length
// (Size -1) is accepted. Delete removes a key and succeeds when the key is
// already absent. Both honour ctx and retry, with the retry.Policy their
// constructor takes, what is safe to retry; a retried Put needs a body it can
// read again, so Put retries only when body is an io.Seeker or what it sends
// is held in memory (s3mirror's parts). A key that would
// leave the mirror's directory fails with ErrUnsafeKey before anything is
// sent. Implementations are safe for concurrent use.
type Mirror interface {
	Put(ctx context.Context, obj Object, body io.Reader) error
	Delete(ctx context.Context, key string) error
}

// ErrUnsafeKey is the error for a key that would escape the configured
// remote directory.
var ErrUnsafeKey = errors.New("key escapes the mirror's directory")

// Join returns dir joined with key, refusing keys that are absolute, hold a
// ".." segment, or are empty, so nothing is written outside dir. dir "" is the
// root of the remote store.
func Join(dir, key string) (string, error) {
	if key == "" || strings.HasPrefix(key, "/") || strings.ContainsRune(key, 0) {
		return "", fmt.Errorf("%w: %q", ErrUnsafeKey, key)
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == ".." {
			return "", fmt.Errorf("%w: %q", ErrUnsafeKey, key)
		}
	}
	dir = strings.TrimRight(dir, "/")
	joined := path.Join("/", dir, key)
	if dir != "" && !strings.HasPrefix(joined, path.Join("/", dir)+"/") {
		return "", fmt.Errorf("%w: %q", ErrUnsafeKey, key)
	}
	if dir == "" {
		return strings.TrimPrefix(joined, "/"), nil
	}
	return joined, nil
}
