//go:build !unix

package eventexec

import "os/exec"

// killGroupOnCancel leaves exec's default here: cancellation kills the
// command's process, not what it started.
func killGroupOnCancel(*exec.Cmd) {}
