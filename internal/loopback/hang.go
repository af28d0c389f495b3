package loopback

import (
	"io"
	"net"
	"sync"
)

// Hang is a TCP listener on 127.0.0.1 that accepts every connection and
// never answers: a provider that hangs. It reads what is sent, or with
// NewStall reads nothing, so a large upload stops mid-body.
type Hang struct {
	ln   net.Listener
	read bool

	mu       sync.Mutex
	accepted int
	conns    map[net.Conn]bool
	changed  chan struct{} // closed and replaced on every accept and close
}

// NewHang starts a Hang that reads everything sent. Close it when done.
func NewHang() (*Hang, error) { return newHang(true) }

// NewStall starts a Hang that reads nothing. Close it when done.
func NewStall() (*Hang, error) { return newHang(false) }

func newHang(read bool) (*Hang, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	h := &Hang{ln: ln, read: read, conns: map[net.Conn]bool{}, changed: make(chan struct{})}
	go h.accept()
	return h, nil
}

// URL is the listener's http:// base URL.
func (h *Hang) URL() string { return "http://" + h.ln.Addr().String() }

// Addr is the listener's host:port.
func (h *Hang) Addr() string { return h.ln.Addr().String() }

// Accepted counts the connections accepted so far.
func (h *Hang) Accepted() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.accepted
}

// Changed returns a channel closed at the next accept or close.
func (h *Hang) Changed() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.changed
}

// Close stops listening and drops every connection.
func (h *Hang) Close() error {
	err := h.ln.Close()
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.conns {
		c.Close()
	}
	return err
}

func (h *Hang) accept() {
	for {
		c, err := h.ln.Accept()
		if err != nil {
			return
		}
		h.mu.Lock()
		h.accepted++
		h.conns[c] = true
		h.notify()
		h.mu.Unlock()
		if !h.read {
			continue // held open, unread, until Close
		}
		go func() {
			_, _ = io.Copy(io.Discard, c) // until the client gives up
			c.Close()
			h.mu.Lock()
			delete(h.conns, c)
			h.notify()
			h.mu.Unlock()
		}()
	}
}

// notify wakes whoever waits on Changed; h.mu is held.
func (h *Hang) notify() {
	close(h.changed)
	h.changed = make(chan struct{})
}
