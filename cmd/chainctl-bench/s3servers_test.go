package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestS3Servers starts each S3 server as chainctl-s3 does, creates its
// bucket, and reads back an object through a presigned URL of region
// s3Region, as blob GETs that chainctl redirects are. versitygw is skipped
// only when not installed and CHAINCTL_TEST_REQUIRE_ALL is unset;
// SeaweedFS whenever weed is not installed: only `.ci/tools.sh bench`
// builds it.
func TestS3Servers(t *testing.T) {
	for _, server := range s3Servers() {
		t.Run(server, func(t *testing.T) {
			bin, err := findS3Server(t.Context(), server)
			if err != nil {
				if server == s3Versitygw && os.Getenv("CHAINCTL_TEST_REQUIRE_ALL") == "1" {
					t.Fatal(err)
				}
				t.Skip(err)
			}
			b := &s3Backend{server: server, bucket: "bench-test", access: "AKTESTACCESSKEY", secret: "test-secret-key-0123456789"}
			dir := t.TempDir()
			if err := startS3Server(t.Context(), bin, dir, b); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				b.stopS3Server()
				for _, f := range b.leftovers {
					if _, err := os.Lstat(f); err == nil {
						t.Errorf("%s left %s", server, f)
					}
				}
			})
			if err := b.createBucket(t.Context()); err != nil {
				t.Fatal(err)
			}
			c := s3.New(s3.Options{
				BaseEndpoint: aws.String(b.gw.base), Region: s3Region, UsePathStyle: true,
				Credentials:                credentials.NewStaticCredentialsProvider(b.access, b.secret, ""),
				HTTPClient:                 &http.Client{Transport: &http.Transport{Proxy: nil}},
				RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
				ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
			})
			body := []byte("a blob, read back through a presigned URL")
			key := "registry/blob"
			if _, err := c.PutObject(t.Context(), &s3.PutObjectInput{Bucket: &b.bucket, Key: &key, Body: bytes.NewReader(body)}); err != nil {
				t.Fatalf("PutObject = %v%s", err, b.gw.exited())
			}
			req, err := s3.NewPresignClient(c).PresignGetObject(t.Context(), &s3.GetObjectInput{Bucket: &b.bucket, Key: &key})
			if err != nil {
				t.Fatal(err)
			}
			resp, err := (&http.Client{Transport: &http.Transport{Proxy: nil}}).Get(req.URL)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK || !bytes.Equal(got, body) {
				t.Errorf("presigned GET = %d %q, %v; want 200 %q", resp.StatusCode, got, err, body)
			}
		})
	}
}

func TestWriteSeaweedIdentity(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s3.json")
	if err := writeSeaweedIdentity(path, "AKX", "se\"cret"); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("mode = %v, want 0600: the file holds the secret key", perm)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"identities":[{"name":"bench","credentials":[{"accessKey":"AKX","secretKey":"se\"cret"}],"actions":["Admin","Read","Write","List","Tagging"]}]}`
	if string(b) != want {
		t.Errorf("s3.json = %s, want %s", b, want)
	}
	if !json.Valid(b) {
		t.Error("s3.json is not JSON")
	}
}

func TestFreePorts(t *testing.T) {
	p, err := freePorts(8)
	if err != nil {
		t.Fatal(err)
	}
	if len(p) != 8 || len(slices.Compact(slices.Sorted(slices.Values(p)))) != 8 {
		t.Errorf("freePorts(8) = %q, want 8 distinct ports", p)
	}
}

// TestFindS3Server checks that a missing server's error names its program
// and what installs it: weed only the bench mode of .ci/tools.sh.
func TestFindS3Server(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // no go either: PATH alone is searched
	for server, want := range map[string][]string{
		s3Versitygw: {"versitygw not found", "./.ci/tools.sh"},
		s3SeaweedFS: {"SeaweedFS", "weed not found", "./.ci/tools.sh bench"},
		"minio":     {`unknown S3 server "minio"`},
	} {
		_, err := findS3Server(t.Context(), server)
		for _, w := range want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("findS3Server(%s) = %v, want an error containing %q", server, err, w)
			}
		}
	}
}
