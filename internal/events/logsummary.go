package events

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/chainctl/chainctl/internal/store"
)

// Summary counts the events a query selects: pulls and pushes per
// repository and per actor, and failures by error code.
type Summary struct {
	Total        int64          `json:"total"`
	Repositories []SummaryRow   `json:"repositories"`
	Actors       []SummaryRow   `json:"actors"`
	Failures     []FailureCount `json:"failures"`
}

// SummaryRow is one repository's or one actor's events.
type SummaryRow struct {
	// Name is the repository, or the actor key.
	Name   string `json:"name"`
	Pulls  int64  `json:"pulls"`
	Pushes int64  `json:"pushes"`
	// Failed counts the pulls and pushes that failed.
	Failed int64 `json:"failed"`
}

// FailureCount is how many requests failed with one error code.
type FailureCount struct {
	Code  string `json:"code"`
	Count int64  `json:"count"`
}

// Summary counts the events q selects (its Limit and Cursor aside) among
// those of the repositories caller owns. The database does the counting
// (GROUP BY), so a summary of a week of a busy registry moves a few rows,
// not the week's events.
func (l *Log) Summary(ctx context.Context, caller Owner, q Query) (Summary, error) {
	out := Summary{Repositories: []SummaryRow{}, Actors: []SummaryRow{}, Failures: []FailureCount{}}
	f, none, err := filter(caller, q)
	if err != nil || none {
		return out, err
	}
	sum, err := l.st.SummarizeEvents(ctx, f)
	if err != nil {
		return out, err
	}
	out.Total = sum.Total
	out.Repositories, out.Actors = rows(sum.Repositories), rows(sum.Actors)
	for _, c := range sum.Failures {
		code := c.Key
		if code == "" {
			code = "UNKNOWN"
		}
		out.Failures = append(out.Failures, FailureCount{Code: code, Count: c.Count})
	}
	return out, nil
}

// rows folds counts by (key, type) into one row per key, most events
// first.
func rows(counts []store.EventCount) []SummaryRow {
	byName := map[string]*SummaryRow{}
	var out []*SummaryRow
	for _, c := range counts {
		r := byName[c.Key]
		if r == nil {
			r = &SummaryRow{Name: c.Key}
			byName[c.Key] = r
			out = append(out, r)
		}
		switch c.Type {
		case TypePull:
			r.Pulls += c.Count
		case TypePush:
			r.Pushes += c.Count
		}
		r.Failed += c.Failed
	}
	slices.SortStableFunc(out, func(a, b *SummaryRow) int {
		return cmp.Or(cmp.Compare(b.Pulls+b.Pushes, a.Pulls+a.Pushes), cmp.Compare(a.Name, b.Name))
	})
	res := make([]SummaryRow, len(out))
	for i, r := range out {
		res[i] = *r
	}
	return res
}

// TagMove is one push that pointed a tag at a digest.
type TagMove struct {
	Digest string `json:"digest"`
	// Previous is the digest the tag pointed at before, "" if it was new.
	Previous   string `json:"previous,omitempty"`
	MediaType  string `json:"media_type,omitempty"`
	When       string `json:"when"`
	Actor      Actor  `json:"actor"`
	ActorKey   string `json:"actor_key"`
	RemoteAddr string `json:"remote_addr,omitempty"`
	UserAgent  string `json:"user_agent,omitempty"`
}

// TagHistory returns every digest tag of repo was pushed to point at, and
// when and by whom, newest first, from the successful push events: as far
// back as the event log goes (events.retention). Deleting a tag is not a
// push, so it is not listed. The caller checks that the requester may
// pull repo.
func (l *Log) TagHistory(ctx context.Context, repo, tag string) ([]TagMove, error) {
	f := store.EventFilter{Repositories: []string{repo}, Type: TypePush, Subject: repo + ":" + tag,
		Outcome: store.Succeeded, Limit: MaxPage}
	out := []TagMove{}
	for len(out) < maxHistory {
		page, err := l.st.QueryEvents(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, e := range page {
			var d Data
			if json.Unmarshal(e.Data, &d) != nil || d.Type != KindManifest || d.Tag != tag {
				continue
			}
			out = append(out, TagMove{Digest: d.Digest, Previous: d.Previous, MediaType: d.MediaType,
				When: e.Time.UTC().Format(time.RFC3339Nano), Actor: d.Actor, ActorKey: e.Actor,
				RemoteAddr: d.RemoteAddr, UserAgent: d.UserAgent})
		}
		if len(page) < f.Limit {
			break
		}
		last := page[len(page)-1]
		f.Before = store.EventPosition{Time: last.Time, Seq: last.Seq}
	}
	return out, nil
}
