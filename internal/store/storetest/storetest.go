// Package storetest is the conformance suite for store.Store: every
// metadata backend (SQLite, PostgreSQL, ...) runs the same tests through
// Run, so they agree on every edge the registry relies on.
package storetest

import (
	"context"
	// go-digest hashes sha512 only when the hash is linked in.
	_ "crypto/sha512"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/store"
)

// Media types used by the suite; the store treats them as opaque strings.
const (
	mediaTypeManifest = "application/vnd.oci.image.manifest.v1+json"
	mediaTypeIndex    = "application/vnd.oci.image.index.v1+json"
	mediaTypeConfig   = "application/vnd.oci.image.config.v1+json"
	artifactSBOM      = "application/vnd.example.sbom.v1+json"
	artifactSignature = "application/vnd.example.signature.v1"
)

// Run runs the suite. open must return a new, empty store for each call
// and close it when t ends (t.Cleanup); each subtest calls it once.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Ping", testPing},
		{"BlobLinks", testBlobLinks},
		{"BlobRepositories", testBlobRepositories},
		{"PutManifest", testPutManifest},
		{"PutManifestManyBlobs", testPutManifestManyBlobs},
		{"ManifestIsolation", testManifestIsolation},
		{"DeleteManifest", testDeleteManifest},
		{"DeleteTag", testDeleteTag},
		{"Tags", testTags},
		{"TagsOfRepositoryWithoutTags", testTagsEmpty},
		{"Repositories", testRepositories},
		{"Referrers", testReferrers},
		{"Uploads", testUploads},
		{"ExpiredUploads", testExpiredUploads},
		{"UploadCaps", testUploadCaps},
		{"SigningKeys", testSigningKeys},
		{"SigningKeyRedacted", testSigningKeyRedacted},
		{"Identities", testIdentities},
		{"PullTokens", testPullTokens},
		{"Events", testEvents},
		{"EventBatches", testEventBatches},
		{"EventPacks", testEventPacks},
		{"ManyPacks", testManyPacks},
		{"PackPages", testPackPages},
		{"QueryEvents", testQueryEvents},
		{"SummarizeEvents", testSummarizeEvents},
		{"Subscriptions", testSubscriptions},
		{"Redelivery", testRedelivery},
		{"ConcurrentPutManifest", testConcurrentPutManifest},
		{"CanceledPutManifest", testCanceledPutManifest},
		{"ReadAfterWrite", testReadAfterWrite},
		{"CollectManifests", testCollectManifests},
		{"CollectBlobLinks", testCollectBlobLinks},
		{"Tombstones", testTombstones},
		{"TxSeamPutManifest", testTxSeamPutManifest},
		{"TxSeamLinkBlob", testTxSeamLinkBlob},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, open(t))
		})
	}
}

func testPing(t *testing.T, s store.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping() = %v, want nil", err)
	}
}

// manifestOpts shapes a test manifest.
type manifestOpts struct {
	mediaType    string
	artifactType string
	subject      digest.Digest
	annotations  map[string]string
	blobs        []digest.Digest
	children     []digest.Digest
}

// newManifest returns a manifest for repo whose content, and so digest,
// is determined by body.
func newManifest(repo, body string, o manifestOpts) *store.Manifest {
	if o.mediaType == "" {
		o.mediaType = mediaTypeManifest
	}
	content := fmt.Appendf(nil, `{"schemaVersion":2,"mediaType":%q,"body":%q}`, o.mediaType, body)
	return &store.Manifest{
		Repository:   repo,
		Digest:       digest.FromBytes(content),
		MediaType:    o.mediaType,
		ArtifactType: o.artifactType,
		Size:         int64(len(content)),
		Content:      content,
		Subject:      o.subject,
		Annotations:  o.annotations,
		Blobs:        o.blobs,
		Children:     o.children,
		// Sub-second, to catch backends that truncate.
		Created: time.Date(2025, 6, 1, 12, 30, 45, 123456000, time.UTC),
	}
}

// inRepo returns a copy of m stored in another repository.
func inRepo(m *store.Manifest, repo string) *store.Manifest {
	c := *m
	c.Repository = repo
	return &c
}

// put stores m under tag and fails the test on error.
func put(t *testing.T, s store.Store, m *store.Manifest, tag string) digest.Digest {
	t.Helper()
	prev, err := s.PutManifest(t.Context(), m, tag)
	if err != nil {
		t.Fatalf("PutManifest(%s@%s, %q) = %v", m.Repository, m.Digest, tag, err)
	}
	return prev
}

func link(t *testing.T, s store.Store, repo string, dgst digest.Digest, size int64) {
	t.Helper()
	if err := s.LinkBlob(t.Context(), repo, dgst, size); err != nil {
		t.Fatalf("LinkBlob(%s, %s, %d) = %v", repo, dgst, size, err)
	}
}

// wantNotFound fails unless err wraps store.ErrNotFound.
func wantNotFound(t *testing.T, call string, err error) {
	t.Helper()
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("%s = %v, want ErrNotFound", call, err)
	}
}

// diffManifest describes how got differs from want; "" if it does not.
// Nil and empty maps and slices are equal; times compare with Equal.
func diffManifest(got, want *store.Manifest) string {
	if got == nil {
		return "got nil manifest"
	}
	var d []string
	check := func(field string, ok bool, g, w any) {
		if !ok {
			d = append(d, fmt.Sprintf("%s = %v, want %v", field, g, w))
		}
	}
	check("Repository", got.Repository == want.Repository, got.Repository, want.Repository)
	check("Digest", got.Digest == want.Digest, got.Digest, want.Digest)
	check("MediaType", got.MediaType == want.MediaType, got.MediaType, want.MediaType)
	check("ArtifactType", got.ArtifactType == want.ArtifactType, got.ArtifactType, want.ArtifactType)
	check("Size", got.Size == want.Size, got.Size, want.Size)
	check("Content", string(got.Content) == string(want.Content), string(got.Content), string(want.Content))
	check("Subject", got.Subject == want.Subject, got.Subject, want.Subject)
	check("Annotations", maps.Equal(got.Annotations, want.Annotations), got.Annotations, want.Annotations)
	check("Blobs", slices.Equal(got.Blobs, want.Blobs), got.Blobs, want.Blobs)
	check("Children", slices.Equal(got.Children, want.Children), got.Children, want.Children)
	check("Created", got.Created.Equal(want.Created), got.Created, want.Created)
	if len(d) == 0 {
		return ""
	}
	return fmt.Sprint(d)
}

// canceled returns a context that is already canceled.
func canceled(t *testing.T) context.Context {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	return ctx
}
