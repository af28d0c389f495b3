package pipeline_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/offload-dev/offload/pipeline"
)

// TestInboxKill9KeepsWhatWasAcked runs a process that adds entries to an
// inbox from 8 goroutines and prints each id once its Add returned, kills
// it with SIGKILL after 2,000 of them, and opens the file again: every
// entry printed is there, with its body. A reader in the child moves the
// log into the bucket every hundred or so entries, so the kill may land in
// a move too. (What a power cut adds, the
// fdatasync before each Add returns, no test here can cut.)
func TestInboxKill9KeepsWhatWasAcked(t *testing.T) {
	if dir := os.Getenv("OFFLOAD_INBOX_KILL_DIR"); dir != "" {
		addUntilKilled(dir)
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestInboxKill9KeepsWhatWasAcked$")
	cmd.Env = append(os.Environ(), "OFFLOAD_INBOX_KILL_DIR="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := map[uint64]string{}
	lines := bufio.NewScanner(out)
	for len(acked) < 2000 && lines.Scan() {
		var id uint64
		var body string
		if _, err := fmt.Sscanf(lines.Text(), "%d %s", &id, &body); err != nil {
			t.Fatalf("child: %q: %v", lines.Text(), err)
		}
		acked[id] = body
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if len(acked) < 2000 {
		t.Fatalf("child acknowledged %d entries before it ended, want 2000", len(acked))
	}

	db := openDB(t, filepath.Join(dir, "state.db"))
	defer db.Close()
	in, err := pipeline.NewInbox(pipeline.InboxOptions{DB: db})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	due, _, err := in.Due(context.Background(), time.Now(), 1<<20, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	found := map[uint64]string{}
	for _, e := range due {
		found[e.ID] = string(e.Body)
	}
	missing := 0
	for id, body := range acked {
		if found[id] != body {
			if missing++; missing <= 5 {
				t.Errorf("entry %d: got body %q after the kill, want %q", id, found[id], body)
			}
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d acknowledged entries lost (%d found)", missing, len(acked), len(found))
	}
	if in.Depth() != len(due) {
		t.Errorf("depth %d, want %d (the entries due)", in.Depth(), len(due))
	}
}

// addUntilKilled is the child: it adds until it is killed.
func addUntilKilled(dir string) {
	db, err := bbolt.Open(filepath.Join(dir, "state.db"), 0o600, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	in, err := pipeline.NewInbox(pipeline.InboxOptions{DB: db})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var mu sync.Mutex
	w := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	read := make(chan struct{}, 1)
	wg.Go(func() {
		for range read {
			if _, err := in.Stats(context.Background(), 0); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(2)
			}
		}
	})
	for g := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				body := fmt.Sprintf(`{"g":%d,"i":%d}`, g, i)
				id, err := in.Add(context.Background(), []byte(body))
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(2)
				}
				mu.Lock()
				fmt.Fprintf(w, "%d %s\n", id, body)
				w.Flush()
				mu.Unlock()
				if id%100 == 0 {
					select {
					case read <- struct{}{}:
					default:
					}
				}
			}
		})
	}
	wg.Wait()
}
