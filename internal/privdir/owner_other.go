//go:build !unix

package privdir

import "io/fs"

// CheckOwner is a no-op where file ownership is not a uid (windows, where
// the per-user directories' ACLs do the job, plan9, wasm).
func CheckOwner(fs.FileInfo) error { return nil }
