// Package s3 keeps blobs and uploads in an S3-compatible bucket: Amazon S3,
// Cloudflare R2, or any server that speaks the S3 API.
//
// Key layout under the configured prefix:
//
//	blobs/<alg>/<first two hex>/<hex>   committed blobs, immutable
//	uploads/<id>/state                  JSON state of a resumable upload
//	uploads/<id>/seg/<offset>-<rand>    bytes that do not fill a part yet
//	uploads/<id>/data                   the assembled upload, during commit
//
// A blob becomes visible only once its bytes were verified against its
// digest: Put sends parts of a multipart upload straight to the blob key and
// completes it only after the digest matched (aborting it otherwise), and
// CommitUpload completes an upload's multipart upload into uploads/<id>/data
// and copies that into place after the digest from the saved hash state
// matched.
//
// Uploads keep all their state in the bucket, so consecutive writes of one
// upload may be served by different processes: the state object is
// replaced only by a conditional PutObject (If-Match on the ETag it was
// read with), which makes it the commit point of every write, and a write
// holds a lease in it while it uploads parts. Writes are re-cut into parts
// of exactly PartSize bytes (Cloudflare R2 refuses a multipart upload whose
// non-trailing parts differ in size), and S3 allows at most 10 000 parts, so
// the largest blob is PartSize × 10 000 (78.1 GiB at the default 8 MiB).
// Memory use is about PartSize per write in flight.
package s3

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/chainctl/chainctl/internal/keyedmutex"
	"github.com/chainctl/chainctl/internal/storage"
)

const (
	// DefaultPartSize is the part size when Config.PartSize is zero. A
	// larger part means fewer requests (R2 bills each part upload as a
	// class A operation) and a larger maximum blob (PartSize × 10 000), at
	// the cost of PartSize bytes of memory per write in flight. 8 MiB (as
	// the AWS CLI) allows blobs of 78 GiB, beyond the largest image layers
	// seen in practice, keeps a 5 GiB push under 100 MiB of RSS (measured,
	// docs/performance.md) and 64 concurrent pushes at 512 MiB of buffers.
	DefaultPartSize = 8 << 20
	// MinPartSize is S3's smallest allowed non-trailing part.
	MinPartSize = 5 << 20
	// MaxPartSize is S3's largest allowed part.
	MaxPartSize = 5 << 30
	// MaxParts is S3's limit on the parts of one multipart upload.
	MaxParts = 10000

	// maxCopySize is the largest object CopyObject copies in one request;
	// larger ones are copied part by part.
	maxCopySize = 5 << 30
)

// Config says which bucket to use and how to reach it. Credentials are not
// part of it: they come from the environment, the shared AWS config files
// or an explicit WithCredentials option.
type Config struct {
	// Bucket is the bucket's name. Required.
	Bucket string
	// Prefix is prepended to every key, so several registries can share a
	// bucket. A non-empty prefix is stored with a trailing slash.
	Prefix string
	// Endpoint is the S3 API's base URL, e.g.
	// https://<account>.r2.cloudflarestorage.com; empty means AWS.
	Endpoint string
	// Region is the signing region; R2 wants "auto". Empty means the
	// AWS_REGION environment or config file, else "auto" with an Endpoint.
	Region string
	// PathStyle addresses the bucket in the path (endpoint/bucket/key)
	// instead of the host name; most non-AWS servers want it.
	PathStyle bool
	// PartSize is the size of every multipart part but the last, in
	// [MinPartSize, MaxPartSize]; zero means DefaultPartSize.
	PartSize int64
}

// Store is a storage.Store on an S3 bucket. It is safe for concurrent use,
// and several Stores (in several processes) may share a bucket and prefix.
type Store struct {
	client     *s3.Client
	presign    *s3.PresignClient
	bucket     string
	prefix     string
	partSize   int64
	copyLimit  int64 // objects larger than this are copied part by part
	log        *slog.Logger
	locks      keyedmutex.Mutex
	bufs       sync.Pool // *[]byte of partSize
	creds      aws.CredentialsProvider
	httpClient *http.Client
	presigned  presignCache
	now        func() time.Time // time.Now; tests move it
}

var _ storage.Store = (*Store)(nil)

// Option configures a Store.
type Option func(*Store)

// WithLogger sets the logger; the default discards everything.
func WithLogger(l *slog.Logger) Option {
	return func(s *Store) {
		if l != nil {
			s.log = l
		}
	}
}

// WithCredentials sets the credentials instead of the default chain
// (environment, shared config and credentials files, instance roles).
func WithCredentials(p aws.CredentialsProvider) Option {
	return func(s *Store) { s.creds = p }
}

// WithHTTPClient sets the HTTP client the S3 client sends requests with.
func WithHTTPClient(c *http.Client) Option {
	return func(s *Store) { s.httpClient = c }
}

// New returns a Store for cfg after checking that the bucket is reachable
// with the credentials found.
func New(ctx context.Context, cfg Config, opts ...Option) (*Store, error) {
	cfg, err := cfg.normalize()
	if err != nil {
		return nil, fmt.Errorf("new s3 store: %w", err)
	}
	s := &Store{
		bucket:    cfg.Bucket,
		prefix:    cfg.Prefix,
		partSize:  cfg.PartSize,
		copyLimit: maxCopySize,
		now:       time.Now,
		log:       slog.New(slog.DiscardHandler),
	}
	s.bufs.New = func() any {
		b := make([]byte, s.partSize)
		return &b
	}
	for _, o := range opts {
		o(s)
	}

	loadOpts := []func(*config.LoadOptions) error{config.WithLogger(sdkLogger(s.log))}
	if cfg.Region != "" {
		loadOpts = append(loadOpts, config.WithRegion(cfg.Region))
	}
	if s.creds != nil {
		loadOpts = append(loadOpts, config.WithCredentialsProvider(s.creds))
	}
	if s.httpClient != nil {
		loadOpts = append(loadOpts, config.WithHTTPClient(s.httpClient))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("new s3 store: load aws config: %w", err)
	}
	if awsCfg.Region == "" {
		if cfg.Endpoint == "" {
			return nil, errors.New("new s3 store: no region: set one in the URL or AWS_REGION")
		}
		awsCfg.Region = "auto"
	}
	s.client = s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.PathStyle
		// Since early 2025 the SDK adds CRC32 checksums to every request
		// by default; R2 answered them with 501 NotImplemented. Only send
		// and check checksums where an operation requires them.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	s.presign = s3.NewPresignClient(s.client)

	// Without credentials every request fails with the SDK's account of
	// each provider it tried; say what to set instead.
	if awsCfg.Credentials != nil {
		if _, err := awsCfg.Credentials.Retrieve(ctx); err != nil {
			return nil, fmt.Errorf("new s3 store: bucket %q: no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "+
				"(for R2, an API token's S3 access key id and secret), or AWS_PROFILE: %w", s.bucket, err)
		}
	}
	if _, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(s.bucket)}); err != nil {
		return nil, fmt.Errorf("new s3 store: bucket %q: %w", s.bucket, err)
	}
	return s, nil
}

// getBuf returns a buffer of exactly n bytes, pooled when n is the store's
// part size (uploads started by a store with another part size keep theirs).
func (s *Store) getBuf(n int64) (buf []byte, put func()) {
	if n != s.partSize {
		return make([]byte, n), func() {}
	}
	bp := s.bufs.Get().(*[]byte)
	return *bp, func() { s.bufs.Put(bp) }
}
