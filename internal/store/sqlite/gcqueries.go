package sqlite

// Garbage collection's queries are in package sqlq, shared with the
// PostgreSQL backend.

// Kinds of manifest_refs rows.
const (
	refBlob  = 0
	refChild = 1
)
