package pipeline

import (
	"os"
	"syscall"
)

// fdatasync makes f's data durable, and its size, but not its times: what
// os.File.Sync (fsync) would write too on every append.
func fdatasync(f *os.File) error {
	c, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := c.Control(func(fd uintptr) { serr = syscall.Fdatasync(int(fd)) }); err != nil {
		return err
	}
	return serr
}
