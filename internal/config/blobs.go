package config

import (
	"fmt"
	"net/url"
	"time"

	"github.com/spf13/pflag"
)

// Blob-serving setting names.
const (
	KeyBlobRedirect  = "blob-redirect"
	KeyPresignTTL    = "presign-ttl"
	KeyPublicBlobURL = "public-blob-url"
	KeyUploadTTL     = "upload-ttl"
	KeyScrubRate     = "scrub-rate"
	KeyScrubInterval = "scrub-interval"
)

// How blob downloads are served.
const (
	// RedirectPresign answers a blob GET with 307 to a presigned URL of the
	// object in the bucket: the bytes never pass through the registry.
	RedirectPresign = "presign"
	// RedirectPublic redirects pulls of public repositories to
	// public-blob-url (an R2 custom domain or a CDN), others as presign.
	RedirectPublic = "public"
	// RedirectProxy streams every blob through the registry.
	RedirectProxy = "proxy"
)

// Defaults of the blob settings.
const (
	DefaultPresignTTL = 10 * time.Minute
	DefaultUploadTTL  = 24 * time.Hour
	// minUploadTTL leaves room for uploads recording their activity only
	// once a minute.
	minUploadTTL = 10 * time.Minute
	// maxPresignTTL is SigV4's limit.
	maxPresignTTL = 7 * 24 * time.Hour
	// DefaultScrubRate reads a terabyte of blobs in a day and a half, and
	// takes a small part of a disk from the pulls.
	DefaultScrubRate     = 8 << 20
	DefaultScrubInterval = 24 * time.Hour
	// minScrubInterval keeps a small registry from re-reading its blobs
	// all the time.
	minScrubInterval = time.Minute
)

// Blobs says how blob downloads and abandoned uploads are handled.
type Blobs struct {
	// Redirect is RedirectPresign, RedirectPublic or RedirectProxy. It is
	// RedirectProxy for file storage, which has no URLs to redirect to.
	Redirect string
	// PresignTTL is how long a presigned URL stays valid.
	PresignTTL time.Duration
	// PublicURL is the base URL of the bucket's public domain, for
	// RedirectPublic, without a trailing slash.
	PublicURL string
	// UploadTTL is how long an upload may sit unfinished before it is
	// discarded (and its multipart upload aborted).
	UploadTTL time.Duration
	// ScrubRate is how many bytes a second the server re-reads of file
	// storage's blobs to check them against their digests (0: never), and
	// ScrubInterval how often a pass over them all begins at most.
	ScrubRate     int64
	ScrubInterval time.Duration
}

// addBlobFlags defines the blob settings on fs.
func addBlobFlags(fs *pflag.FlagSet, env func(string) string) {
	fs.String(KeyBlobRedirect, "", "how blob GETs are served: presign (307 to a presigned bucket URL), public (307 to --public-blob-url for public repositories, presign for others) or proxy (stream); default: presign on s3 storage, proxy on file storage"+env(KeyBlobRedirect))
	fs.Duration(KeyPresignTTL, DefaultPresignTTL, "how long presigned blob URLs stay valid"+env(KeyPresignTTL))
	fs.String(KeyPublicBlobURL, "", "public base `url` of the bucket (an R2 custom domain or CDN), for --blob-redirect public"+env(KeyPublicBlobURL))
	fs.Duration(KeyUploadTTL, DefaultUploadTTL, "discard uploads left unfinished this long"+env(KeyUploadTTL))
	fs.String(KeyScrubRate, "8MiB", "on file storage, re-hash stored blobs in the background at this many `bytes` a second, quarantining any that no longer match their digest (0: never; chainctl registry fsck checks on demand)"+env(KeyScrubRate))
	fs.Duration(KeyScrubInterval, DefaultScrubInterval, "begin a background pass over the stored blobs at most this often"+env(KeyScrubInterval))
}

// resolveBlobs reads and checks the blob settings for storage st.
func resolveBlobs(get func(string) string, st Storage) (Blobs, error) {
	b := Blobs{PresignTTL: DefaultPresignTTL, UploadTTL: DefaultUploadTTL, ScrubRate: DefaultScrubRate, ScrubInterval: DefaultScrubInterval}
	var errs Errors
	for _, c := range []struct {
		key string
		p   *time.Duration
	}{{KeyPresignTTL, &b.PresignTTL}, {KeyUploadTTL, &b.UploadTTL}, {KeyScrubInterval, &b.ScrubInterval}} {
		if v := get(c.key); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				errs.add(fmt.Errorf("%s %q: want a positive duration such as 10m", c.key, v))
				continue
			}
			*c.p = d
		}
	}
	if v := get(KeyScrubRate); v != "" {
		n, err := ParseBytes(v)
		if err != nil {
			errs.add(fmt.Errorf("%s %q: %v", KeyScrubRate, v, err))
		}
		b.ScrubRate = n
	}
	if b.ScrubInterval < minScrubInterval {
		errs.add(fmt.Errorf("%s %s: at least %s", KeyScrubInterval, b.ScrubInterval, minScrubInterval))
	}
	if b.UploadTTL < minUploadTTL {
		errs.add(fmt.Errorf("%s %s: at least %s; an upload being written records its activity once a minute", KeyUploadTTL, b.UploadTTL, minUploadTTL))
	}
	if b.PresignTTL > maxPresignTTL {
		errs.add(fmt.Errorf("%s %s: presigned URLs last at most 7 days (168h)", KeyPresignTTL, b.PresignTTL))
	}
	b.Redirect = get(KeyBlobRedirect)
	switch b.Redirect {
	case "":
		b.Redirect = RedirectProxy
		if st.Type == StorageS3 {
			b.Redirect = RedirectPresign
		}
	case RedirectPresign, RedirectPublic, RedirectProxy:
		if b.Redirect != RedirectProxy && st.Type != StorageS3 {
			errs.add(fmt.Errorf("%s %s needs s3:// storage; file storage can only proxy", KeyBlobRedirect, b.Redirect))
		}
	default:
		errs.add(fmt.Errorf("%s %q: want presign, public or proxy", KeyBlobRedirect, b.Redirect))
	}
	publicURLSet := false
	if v := get(KeyPublicBlobURL); v != "" {
		publicURLSet = true
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			errs.add(fmt.Errorf("%s %q: want an http(s) base URL without query", KeyPublicBlobURL, v))
		} else {
			u.Path = trimSlash(u.Path)
			b.PublicURL = u.String()
		}
	}
	if b.Redirect == RedirectPublic && !publicURLSet {
		errs.add(fmt.Errorf("%s public needs %s", KeyBlobRedirect, KeyPublicBlobURL))
	}
	return b, errs.err()
}

func trimSlash(p string) string {
	for len(p) > 0 && p[len(p)-1] == '/' {
		p = p[:len(p)-1]
	}
	return p
}
