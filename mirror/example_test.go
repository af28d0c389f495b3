package mirror_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/offload-dev/offload/mirror"
)

// MemoryMirror keeps objects in a map: the whole Mirror contract in a few
// lines. A real mirror streams the body to the network instead of reading
// it into memory, and retries what is safe to retry.
type MemoryMirror struct {
	Dir string

	mu    sync.Mutex
	files map[string]string
}

func (m *MemoryMirror) Put(ctx context.Context, obj mirror.Object, body io.Reader) error {
	p, err := mirror.Join(m.Dir, obj.Key) // refuses "../" before anything is sent
	if err != nil {
		return fmt.Errorf("memory: put: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memory: put %s: %w", p, err)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return fmt.Errorf("memory: put %s: %w", p, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.files == nil {
		m.files = map[string]string{}
	}
	m.files[p] = string(b)
	return nil
}

func (m *MemoryMirror) Delete(ctx context.Context, key string) error {
	p, err := mirror.Join(m.Dir, key)
	if err != nil {
		return fmt.Errorf("memory: delete: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.files, p) // a key already absent is no error
	return nil
}

func Example() {
	ctx := context.Background()
	m := &MemoryMirror{Dir: "site"}
	var mr mirror.Mirror = m

	for _, key := range []string{"docs/index.html", "docs/a b.html"} {
		body := strings.NewReader("<h1>" + key + "</h1>")
		if err := mr.Put(ctx, mirror.Object{Key: key, Size: body.Size(), ContentType: "text/html"}, body); err != nil {
			fmt.Println(err)
		}
	}
	err := mr.Put(ctx, mirror.Object{Key: "../etc/passwd", Size: -1}, strings.NewReader("x"))
	fmt.Println(errors.Is(err, mirror.ErrUnsafeKey), err)
	fmt.Println(mr.Delete(ctx, "docs/index.html"), mr.Delete(ctx, "never/there.html"))

	var keys []string
	for k := range m.files {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Println(keys)
	// Output:
	// true memory: put: key escapes the mirror's directory: "../etc/passwd"
	// <nil> <nil>
	// [/site/docs/a b.html]
}
