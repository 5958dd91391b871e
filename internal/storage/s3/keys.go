package s3

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	"github.com/chainctl/chainctl/internal/storage"
	"github.com/opencontainers/go-digest"
)

const (
	blobsDir   = "blobs/"
	uploadsDir = "uploads/"
)

// blobKey validates dgst and returns the key of its blob.
func (s *Store) blobKey(dgst digest.Digest) (string, error) {
	if err := storage.CheckDigest(dgst); err != nil {
		return "", err
	}
	enc := dgst.Encoded()
	return s.prefix + blobsDir + dgst.Algorithm().String() + "/" + enc[:2] + "/" + enc, nil
}

// uploadPrefix validates id and returns the prefix of its keys. An id that
// fails validation cannot name an existing upload, so the error also
// matches storage.ErrNotFound.
func (s *Store) uploadPrefix(id string) (string, error) {
	if err := storage.CheckUploadID(id); err != nil {
		return "", fmt.Errorf("%w: %w", err, storage.ErrNotFound)
	}
	return s.prefix + uploadsDir + id + "/", nil
}

// newHash returns a hash for a digest that passed checkDigest.
//
// Importing crypto/sha512 here also registers it with package crypto, which
// go-digest needs to accept sha512 digests at all (Digest.Validate).
func newHash(alg digest.Algorithm) hash.Hash {
	if alg == digest.SHA512 {
		return sha512.New()
	}
	return sha256.New()
}

// apiCode returns the S3 error code of err, or "".
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// httpStatus returns the HTTP status of a failed request, or 0.
func httpStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// isNotFound reports whether err says an object does not exist. HeadObject
// answers 404 without a body, hence the status check.
func isNotFound(err error) bool {
	switch apiCode(err) {
	case "NoSuchKey", "NotFound":
		return true
	case "NoSuchBucket", "NoSuchUpload":
		return false
	}
	return httpStatus(err) == http.StatusNotFound
}

// isNoSuchUpload reports whether err says a multipart upload is gone.
func isNoSuchUpload(err error) bool {
	return apiCode(err) == "NoSuchUpload"
}

// isPreconditionFailed reports whether a conditional request lost, i.e.
// another writer changed or created the object first.
func isPreconditionFailed(err error) bool {
	switch apiCode(err) {
	case "PreconditionFailed", "ConditionalRequestConflict":
		return true
	}
	s := httpStatus(err)
	return s == http.StatusPreconditionFailed || s == http.StatusConflict
}

// notFound maps a missing object to storage.ErrNotFound and keeps other
// errors as they are.
func notFound(err error) error {
	if isNotFound(err) {
		return fmt.Errorf("%w (%w)", storage.ErrNotFound, err)
	}
	return err
}

// readFull fills buf from r as far as r goes. It returns the bytes read and
// nil when r ended (at any point), or the error that stopped it. It stops
// when ctx is done, so a cancelled request stops even if its body keeps
// coming.
func readFull(ctx context.Context, r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		m, err := r.Read(buf[n:])
		n += m
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
