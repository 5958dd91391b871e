//go:build !unix

package tokencache

import "io/fs"

// checkOwner is a no-op where file ownership is not a uid (windows, where
// the per-user cache directory's ACL does the job, plan9, wasm).
func checkOwner(fs.FileInfo) error { return nil }
