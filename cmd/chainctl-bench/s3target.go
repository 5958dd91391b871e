package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/jackc/pgx/v5"

	"github.com/chainctl/chainctl/internal/keywrap"
	"github.com/chainctl/chainctl/internal/toolpath"
)

// The chainctl-s3 target is chainctl as stateless replicas run it: blobs in
// an S3 bucket (versitygw, an S3-compatible server, on loopback, serving a
// directory of the work dir) and metadata in PostgreSQL (a fresh schema of
// the server at -postgres). Whole-blob GETs answer 307 to a presigned URL
// of the bucket (--blob-redirect presign, the default on s3 storage).

// s3Region is the signing region versitygw is started with (R2's).
const s3Region = "auto"

// s3Backend is a running versitygw with one bucket, and a PostgreSQL
// schema, for the chainctl-s3 target.
type s3Backend struct {
	gw       *server
	bucket   string
	access   string
	secret   string
	dsn      string // the server's DSN, without search_path
	schema   string
	database string // --database: dsn with search_path=schema
	kek      string // the key-encryption keyring the signing keys are sealed with
}

// findVersitygw returns versitygw's path from PATH, GOBIN or GOPATH/bin
// (where .ci/tools.sh installs it), or an error saying where it looked.
func findVersitygw(ctx context.Context) (string, error) {
	return toolpath.Find(ctx, "versitygw", nil)
}

// pgExec connects to dsn and runs statements, in order.
func pgExec(ctx context.Context, dsn string, sql ...string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("postgres at %s: %w", redactDSN(dsn), err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for _, s := range sql {
		if _, err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("postgres: %s: %w", s, err)
		}
	}
	return nil
}

// redactDSN is dsn without a password, for messages.
func redactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(the -postgres DSN)"
	}
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	return u.String()
}

// s3Available reports why the chainctl-s3 target cannot run, or nil if it
// can: versitygw is installed and PostgreSQL at dsn answers.
func s3Available(ctx context.Context, dsn string) error {
	if _, err := findVersitygw(ctx); err != nil {
		return err
	}
	return pgExec(ctx, dsn, "SELECT 1")
}

// startS3Backend starts versitygw on a free loopback port serving dir/s3,
// creates a bucket, and creates a fresh PostgreSQL schema on dsn. close
// undoes all of it.
func startS3Backend(ctx context.Context, dsn, dir string) (*s3Backend, error) {
	bin, err := findVersitygw(ctx)
	if err != nil {
		return nil, err
	}
	b := &s3Backend{
		bucket: "bench-" + strings.ToLower(rand.Text()[:10]),
		access: "AK" + rand.Text()[:18],
		secret: rand.Text() + rand.Text()[:14],
		dsn:    dsn,
		schema: fmt.Sprintf("chainctl_bench_%d_%s", os.Getpid(), strings.ToLower(rand.Text()[:10])),
	}
	if b.kek, err = keywrap.GenerateKey(); err != nil {
		return nil, err
	}
	if b.database, err = withSearchPath(dsn, b.schema); err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "s3")
	if err := os.MkdirAll(data, 0o700); err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	args := []string{"--access", b.access, "--secret", b.secret, "--region", s3Region, "--port", addr, "posix", data}
	if b.gw, err = startProcess(ctx, "versitygw", bin, args, filepath.Join(dir, "versitygw"), nil, "http://"+addr, anyAnswer); err != nil {
		return nil, err
	}
	if err := b.createBucket(ctx); err != nil {
		b.close(ctx)
		return nil, err
	}
	if err := pgExec(ctx, dsn, "CREATE SCHEMA "+pgx.Identifier{b.schema}.Sanitize()); err != nil {
		b.schema = "" // nothing to drop
		b.close(ctx)
		return nil, err
	}
	return b, nil
}

// anyAnswer is versitygw's readiness probe: any HTTP answer to GET /.
func anyAnswer(ctx context.Context, base string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/", nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}).Do(req)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

func (b *s3Backend) createBucket(ctx context.Context) error {
	c := s3.New(s3.Options{
		BaseEndpoint:               aws.String(b.gw.base),
		Region:                     s3Region,
		UsePathStyle:               true,
		Credentials:                credentials.NewStaticCredentialsProvider(b.access, b.secret, ""),
		HTTPClient:                 &http.Client{Transport: &http.Transport{Proxy: nil}},
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &b.bucket}); err != nil {
		return fmt.Errorf("create bucket %s on versitygw: %w%s", b.bucket, err, b.gw.exited())
	}
	return nil
}

// serveArgs are chainctl registry serve's flags for the backend.
func (b *s3Backend) serveArgs() []string {
	storage := "s3://" + b.bucket + "/registry?endpoint=" + url.QueryEscape(b.gw.base) + "&region=" + s3Region + "&path_style=true"
	return []string{"--storage", storage, "--database", b.database}
}

// env is chainctl's environment for the backend: the bucket's credentials,
// and nothing that could send the AWS SDK to the network or to the
// caller's own AWS configuration.
func (b *s3Backend) env() []string {
	return []string{
		"AWS_ACCESS_KEY_ID=" + b.access, "AWS_SECRET_ACCESS_KEY=" + b.secret,
		"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=" + os.DevNull, "AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull,
		"CHAINCTL_KEY_ENCRYPTION_KEY=" + b.kek,
	}
}

// close stops versitygw and drops the schema. It runs after the registry
// has stopped, with a context of its own: the run's may have expired.
func (b *s3Backend) close(ctx context.Context) {
	if b.gw != nil {
		b.gw.stop()
	}
	if b.schema != "" {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if err := pgExec(ctx, b.dsn, "DROP SCHEMA IF EXISTS "+pgx.Identifier{b.schema}.Sanitize()+" CASCADE"); err != nil {
			fmt.Fprintf(os.Stderr, "warning: drop schema %s: %v\n", b.schema, err)
		}
	}
}

// withSearchPath returns dsn, a postgres:// URL, with search_path=schema.
func withSearchPath(dsn, schema string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", fmt.Errorf("-postgres %s: want a postgres:// URL", redactDSN(dsn))
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// defaultPostgres is the local server CI and developers run (see
// .ci/tools.sh): user postgres, no password, on loopback.
const defaultPostgres = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
