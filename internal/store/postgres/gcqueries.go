package postgres

// Garbage collection's queries are in package sqlq, shared with the
// SQLite backend.

// Kinds of manifest_refs rows.
const (
	refBlob  = 0
	refChild = 1
)
