//go:build unix && !linux

package childproc

import "syscall"

// Attr returns the attributes of a child process: in a process group of
// its own if group. This system has no parent-death signal: a test killed
// mid-run may leave its server running, to be stopped by hand.
func Attr(group bool) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: group}
}
