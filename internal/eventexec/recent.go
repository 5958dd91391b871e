package eventexec

// recent is a set of the last n keys added: a ring, and a map to look
// them up. Its memory is bounded by n whatever is added.
type recent struct {
	keys []string
	next int
	set  map[string]struct{}
}

func newRecent(n int) *recent {
	return &recent{keys: make([]string, max(n, 1)), set: map[string]struct{}{}}
}

func (r *recent) has(key string) bool {
	_, ok := r.set[key]
	return ok
}

// add adds key, forgetting the oldest key when n are there already.
func (r *recent) add(key string) {
	if r.has(key) {
		return
	}
	if old := r.keys[r.next]; old != "" {
		delete(r.set, old)
	}
	r.keys[r.next] = key
	r.set[key] = struct{}{}
	r.next = (r.next + 1) % len(r.keys)
}
