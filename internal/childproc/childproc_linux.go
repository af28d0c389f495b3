package childproc

import "syscall"

// Attr returns the attributes of a child process: in a process group of
// its own if group (so that a signal to the group reaches what it starts),
// and killed when the thread that started it dies, so that a test killed
// mid-run leaves no server behind.
func Attr(group bool) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: group, Pdeathsig: syscall.SIGKILL}
}
