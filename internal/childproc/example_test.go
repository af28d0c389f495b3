package childproc_test

import (
	"fmt"
	"os/exec"

	"github.com/offload-dev/offload/internal/childproc"
)

// A server a test starts, in a process group of its own.
func ExampleAttr() {
	cmd := exec.Command("sleep", "60")
	cmd.SysProcAttr = childproc.Attr(true)
	fmt.Println(cmd.SysProcAttr.Setpgid)
	// Output: true
}
