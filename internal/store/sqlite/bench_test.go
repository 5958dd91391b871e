package sqlite

import (
	"fmt"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/store"
	"github.com/chainctl/chainctl/internal/store/storetest"
)

// BenchmarkResolveAndGet is the registry's GET-by-tag path: resolve the tag,
// then read the manifest.
func BenchmarkResolveAndGet(b *testing.B) {
	ctx := b.Context()
	s, _ := openTemp(b)
	var m *store.Manifest
	for i := range 10 {
		for _, l := range []string{"c", "l1", "l2"} {
			if err := s.LinkBlob(ctx, fmt.Sprintf("repo%d", i), digest.FromString(l), 1); err != nil {
				b.Fatal(err)
			}
		}
	}
	for i := range 1000 {
		content := fmt.Appendf(nil, `{"schemaVersion":2,"i":%d,"pad":"%0900d"}`, i, 0)
		m = &store.Manifest{
			Repository: fmt.Sprintf("repo%d", i%10), Digest: digest.FromBytes(content),
			MediaType: "application/vnd.oci.image.manifest.v1+json", Size: int64(len(content)), Content: content,
			Blobs: []digest.Digest{digest.FromString("c"), digest.FromString("l1"), digest.FromString("l2")},
		}
		if _, err := s.PutManifest(ctx, m, fmt.Sprintf("v%d", i)); err != nil {
			b.Fatal(err)
		}
	}
	tag := "v999"
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			d, err := s.ResolveTag(ctx, m.Repository, tag)
			if err != nil {
				b.Error(err)
				return
			}
			if _, err := s.GetManifest(ctx, m.Repository, d); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkPutManifest is the write path of a push: a manifest and a tag
// in one transaction (storetest.BenchPutManifest).
func BenchmarkPutManifest(b *testing.B) {
	s, _ := openTemp(b)
	storetest.BenchPutManifest(b, s)
}

// BenchmarkTags is a tags list of 1000 tags (storetest.BenchTags).
func BenchmarkTags(b *testing.B) {
	s, _ := openTemp(b)
	storetest.BenchTags(b, s)
}

// BenchmarkQueryPackedEvents is the event log's first pages over a busy
// registry's log, which is mostly packs: 256 000 pulls and failures in
// batches of 1 000 a second apart, each batch 16 repositories under two
// prefixes pulled by 4 actors (packs of about 60), 2 % failed, and a
// manifest push a batch. evlist (cmd/chainctl-bench) measures a quiet
// registry's log, whose pulls stay rows.
func BenchmarkQueryPackedEvents(b *testing.B) {
	ctx := b.Context()
	s, _ := openTemp(b)
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	const batches, per = 256, 1000
	for k := range batches {
		batch := make([]store.Event, 0, per)
		for i := range per {
			at := t0.Add(time.Duration(k)*time.Second + time.Duration(i)*time.Millisecond)
			repo := fmt.Sprintf("%s/svc-%d", []string{"acme", "team"}[i%2], i%16/2)
			e := store.Event{ID: fmt.Sprintf("%012x%020x", at.UnixMilli(), k*per+i), Type: "dev.chainctl.registry.pull.v1",
				Source: "https://r", Subject: repo + ":latest", Time: at, Repository: repo, Actor: fmt.Sprintf("pull-token:pt-%d", i%4),
				Data: fmt.Appendf(nil, `{"repository":%q,"tag":"latest","when":"%s","user_agent":"containerd/2.0.0"}`, repo, at.Format(time.RFC3339Nano))}
			switch {
			case i == 0:
				e.Type, e.Subject = "dev.chainctl.registry.push.v1", repo+":v1"
			case i%50 == 8:
				e.Failed, e.ErrorCode = true, "MANIFEST_UNKNOWN"
			}
			batch = append(batch, e)
		}
		if err := s.AppendEvents(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	end := t0.Add(batches * time.Second)
	for _, q := range []struct {
		name string
		f    store.EventFilter
	}{
		{"recent pulls of a prefix", store.EventFilter{Repositories: []string{"acme/"}, Type: "dev.chainctl.registry.pull.v1", Since: end.Add(-time.Minute)}},
		{"failed under a prefix", store.EventFilter{Repositories: []string{"acme/"}, Outcome: store.Failed}},
		{"an actor's failures", store.EventFilter{Actors: []string{"pull-token:pt-0"}, Outcome: store.Failed}},
		{"a tag's history", store.EventFilter{Repositories: []string{"acme/svc-0"}, Subject: "acme/svc-0:v1", Type: "dev.chainctl.registry.push.v1"}},
		{"a tag's pulls", store.EventFilter{Repositories: []string{"team/svc-3"}, Subject: "team/svc-3:latest"}},
	} {
		q.f.Limit = 100
		b.Run(q.name, func(b *testing.B) {
			for b.Loop() {
				page, err := s.QueryEvents(ctx, q.f)
				if err != nil || len(page) == 0 {
					b.Fatalf("QueryEvents = %d events, %v", len(page), err)
				}
			}
		})
	}
	b.Run("summary of a prefix", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.SummarizeEvents(ctx, store.EventFilter{Repositories: []string{"acme/"}, Since: end.Add(-time.Hour)}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
