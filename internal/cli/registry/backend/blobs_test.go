package backend

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/chainctl/chainctl/internal/config"
	"github.com/chainctl/chainctl/internal/storage"
)

// bucketStore is a blob store that presigns and names its objects, as the
// S3 store does, without a bucket.
type bucketStore struct {
	storage.Store
	ttl time.Duration
}

func (b *bucketStore) Presign(_ context.Context, d digest.Digest, ttl time.Duration) (string, error) {
	b.ttl = ttl
	if d == digest.FromString("unsignable") {
		return "", errors.New("cannot sign")
	}
	return "https://acct.r2.cloudflarestorage.com/bucket/" + d.Encoded() + "?X-Amz-Signature=s", nil
}

func (b *bucketStore) ObjectKey(d digest.Digest) (string, error) {
	return "registry/blobs/" + d.Algorithm().String() + "/" + d.Encoded(), nil
}

func TestBlobURL(t *testing.T) {
	d := digest.FromString("layer")
	r := httptest.NewRequest("GET", "/v2/x/blobs/"+string(d), nil)
	public := func(repo string) bool { return strings.HasPrefix(repo, "public/") }

	for _, mode := range []string{"", config.RedirectProxy} {
		f, err := BlobURL(config.Blobs{Redirect: mode}, &bucketStore{}, public)
		if err != nil || f != nil {
			t.Errorf("%q: BlobURL = %v, %v; want no redirect", mode, f != nil, err)
		}
	}

	bs := &bucketStore{}
	f, err := BlobURL(config.Blobs{Redirect: config.RedirectPresign, PresignTTL: 7 * time.Minute}, bs, public)
	if err != nil {
		t.Fatal(err)
	}
	for _, repo := range []string{"public/app", "team/app"} {
		if u, err := f(r, repo, d); err != nil || !strings.Contains(u, "X-Amz-Signature") || bs.ttl != 7*time.Minute {
			t.Errorf("presign, %s: %q, %v (ttl %v)", repo, u, err, bs.ttl)
		}
	}

	f, err = BlobURL(config.Blobs{Redirect: config.RedirectPublic, PresignTTL: time.Minute, PublicURL: "https://blobs.example.com"}, bs, public)
	if err != nil {
		t.Fatal(err)
	}
	if u, err := f(r, "public/app", d); err != nil || u != "https://blobs.example.com/registry/blobs/sha256/"+d.Encoded() {
		t.Errorf("public repository: %q, %v; want the public URL", u, err)
	}
	if u, err := f(r, "team/app", d); err != nil || !strings.Contains(u, "X-Amz-Signature") {
		t.Errorf("private repository: %q, %v; want a presigned URL, never the public one", u, err)
	}
	if _, err := f(r, "team/app", digest.FromString("unsignable")); err == nil {
		t.Error("a presign failure was not reported (the registry streams then)")
	}

	// A store that cannot presign cannot redirect.
	type plain struct{ storage.Store }
	if _, err := BlobURL(config.Blobs{Redirect: config.RedirectPresign}, plain{}, public); err == nil {
		t.Error("presign on a store without URLs: no error")
	}
}
