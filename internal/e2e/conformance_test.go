package e2e

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chainctl/chainctl/internal/store/postgres/pgtest"
)

type junitSuites struct {
	Tests    int `xml:"tests,attr"`
	Failures int `xml:"failures,attr"`
	Errors   int `xml:"errors,attr"`
	Suites   []struct {
		Cases []struct {
			Name    string    `xml:"name,attr"`
			Failure *struct{} `xml:"failure"`
			Error   *struct{} `xml:"error"`
			Skipped *struct {
				Message string `xml:"message,attr"`
			} `xml:"skipped"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

// TestConformance runs the OCI distribution-spec conformance suite against a
// real `chainctl registry serve`, with its defaults (sha512 included) and
// with upload cancel and the digest-header checks turned on, on the
// embedded default (filesystem + SQLite), on PostgreSQL, and on S3
// (versitygw behind R2's multipart rules) + PostgreSQL with presigned
// redirects. It wants zero failures.
func TestConformance(t *testing.T) {
	bin := requireTool(t, "conformance")
	strict := []string{
		"OCI_API_BLOBS_UPLOAD_CANCEL=true",
		"OCI_API_BLOBS_DIGEST_HEADER=true",
		"OCI_API_MANIFESTS_DIGEST_HEADER=true",
	}
	configs := []struct {
		name  string
		env   []string
		serve func(t *testing.T) *server // nil: startServer
	}{
		{"defaults", nil, nil},
		{"cancel-and-digest-headers", strict, nil},
		{"postgres", strict, func(t *testing.T) *server {
			return startServer(t, "--database", pgtest.Schema(t), "--key-encryption-key-file", kekFile(t))
		}},
		// Blob GETs answer 307 to a presigned bucket URL...
		{"s3-postgres", nil, func(t *testing.T) *server { return newS3Backend(t).serve(t) }},
		// ...whose response, from the bucket, cannot carry the
		// Docker-Content-Digest header the strict settings check: those
		// run with blobs streamed through the registry.
		{"s3-postgres-proxy", strict, func(t *testing.T) *server {
			return newS3Backend(t).serve(t, "--blob-redirect", "proxy")
		}},
	}
	for _, c := range configs {
		t.Run(c.name, func(t *testing.T) {
			var srv *server
			if c.serve != nil {
				srv = c.serve(t)
			} else {
				srv = startServer(t)
			}
			results := t.TempDir()
			env := append([]string{
				"OCI_REGISTRY=" + srv.Addr,
				"OCI_TLS=disabled",
				"OCI_REPO1=conformance/repo1",
				"OCI_REPO2=conformance/repo2",
				"OCI_RESULTS_DIR=" + results,
				// Through token authentication: the password is an upstream
				// OIDC token the server's identity accepts.
				"OCI_USERNAME=e2e",
				"OCI_PASSWORD=" + srv.Token(t),
				"OCI_LOG=error",
			}, c.env...)
			ctx, cancel := contextWithTimeout(t, 10*time.Minute)
			defer cancel()
			cmd := commandIn(ctx, results, env, bin)
			out, runErr := cmd.CombinedOutput()
			raw, err := os.ReadFile(filepath.Join(results, "junit.xml"))
			if err != nil {
				t.Fatalf("conformance wrote no junit.xml (%v, exit %v):\n%s", err, runErr, out)
			}
			var j junitSuites
			if err := xml.Unmarshal(raw, &j); err != nil {
				t.Fatalf("parse junit.xml: %v", err)
			}
			var failed, skipped []string
			for _, s := range j.Suites {
				for _, tc := range s.Cases {
					if tc.Failure != nil || tc.Error != nil {
						failed = append(failed, tc.Name)
					}
					if tc.Skipped != nil {
						skipped = append(skipped, tc.Name+" ("+tc.Skipped.Message+")")
					}
				}
			}
			t.Logf("conformance %s: %d tests, %d failures, %d errors, %d skipped", c.name, j.Tests, j.Failures, j.Errors, len(skipped))
			for _, s := range skipped {
				t.Logf("  skipped: %s", s)
			}
			if j.Tests == 0 {
				t.Fatalf("conformance ran no tests:\n%s", out)
			}
			if j.Failures+j.Errors > 0 || len(failed) > 0 || runErr != nil {
				t.Fatalf("conformance: %d failures, %d errors (exit %v):\n  %s\n\nregistry log:\n%s",
					j.Failures, j.Errors, runErr, strings.Join(failed, "\n  "), tail(srv.out.String(), 4000))
			}
		})
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
