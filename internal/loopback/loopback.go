// Package loopback finds free ports on 127.0.0.1 for the servers tests
// start, and holds a listener that never answers (Hang).
package loopback

import (
	"fmt"
	"net"
)

// FreePorts returns n distinct ports that were free on 127.0.0.1 a moment
// ago. A process that binds one may still lose it to another; callers that
// start servers retry.
func FreePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("loopback: find a free port: %w", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
