//go:build !linux

package e2e

import "os/exec"

// dieWithTest does nothing here: only Linux can tie a child's life to its
// parent's. A test binary killed by go test's -timeout may leave the app
// or a provider running.
func dieWithTest(cmd *exec.Cmd) {}
