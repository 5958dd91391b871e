package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/jackc/pgx/v5"

	"github.com/chainctl/chainctl/internal/keywrap"
)

// The chainctl-s3 target is chainctl as stateless replicas run it: blobs in
// an S3 bucket (an S3-compatible server, -s3-server, on loopback, keeping
// its data in the work dir) and metadata in PostgreSQL (a fresh schema of
// the server at -postgres). Whole-blob GETs answer 307 to a presigned URL
// of the bucket (--blob-redirect presign, the default on s3 storage).

// s3Region is the signing region (R2's). versitygw is started with it;
// SeaweedFS accepts signatures of any region.
const s3Region = "auto"

// s3Backend is a running S3 server with one bucket, and a PostgreSQL
// schema, for the chainctl-s3 target.
type s3Backend struct {
	server string // -s3-server's value
	gw     *server
	// leftovers are files the S3 server may leave outside the work dir,
	// removed once it has stopped.
	leftovers []string
	bucket    string
	access    string
	secret    string
	dsn       string // the server's DSN, without search_path
	schema    string
	database  string // --database: dsn with search_path=schema
	kek       string // the key-encryption keyring the signing keys are sealed with
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

// s3Available reports why the chainctl-s3 target cannot run on server, or
// nil if it can: server is installed and PostgreSQL at dsn answers.
func s3Available(ctx context.Context, server, dsn string) error {
	if _, err := findS3Server(ctx, server); err != nil {
		return err
	}
	return pgExec(ctx, dsn, "SELECT 1")
}

// startS3Backend starts server on loopback with its data in dir/s3,
// creates a bucket, and creates a fresh PostgreSQL schema on dsn. close
// undoes all of it but dir, which the run removes.
func startS3Backend(ctx context.Context, server, dsn, dir string) (*s3Backend, error) {
	bin, err := findS3Server(ctx, server)
	if err != nil {
		return nil, err
	}
	b := &s3Backend{
		server: server,
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
	if err := startS3Server(ctx, bin, dir, b); err != nil {
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

// anyAnswer is the S3 servers' readiness probe: any HTTP answer to GET /
// (an anonymous request, which both refuse).
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

// createBucket creates the bucket, then writes one object to it and
// deletes it: SeaweedFS creates a bucket's first volumes only at its first
// write, seconds later, which would otherwise count in the first workload
// measured.
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
	// SeaweedFS's S3 gateway answers before it has connected to its
	// filer, and fails bucket creation until it has: try for 30 s.
	err := b.retry(ctx, 30*time.Second, func(ctx context.Context) error {
		_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &b.bucket})
		// An attempt that timed out may have created it.
		var owned *types.BucketAlreadyOwnedByYou
		if errors.As(err, &owned) {
			return nil
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("create bucket %s on %s: %w", b.bucket, s3ServerLabel(b.server), err)
	}
	key := "chainctl-bench-warm-up" // outside chainctl's prefix, registry/
	err = b.retry(ctx, 60*time.Second, func(ctx context.Context) error {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &b.bucket, Key: &key, Body: strings.NewReader("warm-up")}); err != nil {
			return err
		}
		_, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &b.bucket, Key: &key})
		return err
	})
	if err != nil {
		return fmt.Errorf("first write to bucket %s on %s: %w", b.bucket, s3ServerLabel(b.server), err)
	}
	return nil
}

// retry calls f until it succeeds, the S3 server exits, or limit has
// passed, and returns the last attempt's own error rather than the
// deadline's, with the server's log if it exited.
func (b *s3Backend) retry(ctx context.Context, limit time.Duration, f func(context.Context) error) error {
	deadline := time.Now().Add(limit)
	for {
		actx, cancel := context.WithTimeout(ctx, 20*time.Second)
		err := f(actx)
		cancel()
		if err == nil {
			return nil
		}
		if exited := b.gw.exited(); exited != "" {
			return fmt.Errorf("%w%s", err, exited)
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
		case <-time.After(250 * time.Millisecond):
		}
	}
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

// close stops the S3 server and drops the schema. It runs after the registry
// has stopped, with a context of its own: the run's may have expired.
func (b *s3Backend) close(ctx context.Context) {
	b.stopS3Server()
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
