package e2e

import (
	"os/exec"
	"syscall"
)

// dieWithTest asks Linux to kill cmd's process when the test binary dies,
// as when go test's -timeout panics before any cleanup runs. The signal
// follows the thread that started the process, so startProc keeps that
// thread until the process ends.
func dieWithTest(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
