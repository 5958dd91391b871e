package s3

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// ParseURL reads a blob store URL of the form
//
//	s3://BUCKET[/PREFIX]?endpoint=URL&region=auto&path_style=true&part_size=8MiB
//
// All query parameters are optional. part_size takes a byte count with an
// optional KiB, MiB or GiB suffix. Credentials never go in the URL (it ends
// up in logs and process listings); a URL carrying any is refused without
// repeating them.
func ParseURL(s string) (Config, error) {
	u, err := url.Parse(s)
	if err != nil {
		// url.Error repeats the URL, which may hold a secret.
		return Config{}, errors.New("parse s3 url: malformed url")
	}
	if u.User != nil {
		return Config{}, errors.New("parse s3 url: credentials do not belong in the url; " +
			"use AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or an AWS profile")
	}
	if u.Scheme != "s3" {
		return Config{}, fmt.Errorf("parse s3 url: scheme %q, want s3", u.Scheme)
	}
	if u.Opaque != "" {
		return Config{}, errors.New("parse s3 url: want s3://BUCKET[/PREFIX]")
	}
	if u.Fragment != "" {
		return Config{}, errors.New("parse s3 url: unexpected fragment")
	}
	cfg := Config{Bucket: u.Host, Prefix: strings.TrimPrefix(u.Path, "/")}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return Config{}, errors.New("parse s3 url: malformed query")
	}
	for name, vals := range q {
		if len(vals) != 1 {
			return Config{}, fmt.Errorf("parse s3 url: parameter %q given %d times", name, len(vals))
		}
		v := vals[0]
		switch name {
		case "endpoint":
			cfg.Endpoint = v
		case "region":
			cfg.Region = v
		case "path_style":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return Config{}, errors.New("parse s3 url: path_style: want true or false")
			}
			cfg.PathStyle = b
		case "part_size":
			n, err := parseSize(v)
			if err != nil {
				return Config{}, fmt.Errorf("parse s3 url: part_size: %w", err)
			}
			cfg.PartSize = n
		default:
			// Only the name: the value could be a secret put in the wrong place.
			return Config{}, fmt.Errorf("parse s3 url: unknown parameter %q", name)
		}
	}
	cfg, err = cfg.normalize()
	if err != nil {
		return Config{}, fmt.Errorf("parse s3 url: %w", err)
	}
	return cfg, nil
}

// normalize checks c and fills in defaults.
func (c Config) normalize() (Config, error) {
	if c.Bucket == "" {
		return c, errors.New("missing bucket name")
	}
	if err := checkBucket(c.Bucket); err != nil {
		return c, err
	}
	c.Prefix = strings.Trim(c.Prefix, "/")
	if c.Prefix != "" {
		for seg := range strings.SplitSeq(c.Prefix, "/") {
			if seg == "" || seg == "." || seg == ".." {
				return c, fmt.Errorf("prefix %q: empty, . or .. path segment", c.Prefix)
			}
		}
		c.Prefix += "/"
	}
	if c.Endpoint != "" {
		u, err := url.Parse(c.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			// Not repeated: a value in the wrong place could be a secret.
			return c, errors.New("endpoint: want an http or https url with a host")
		}
		if u.User != nil {
			return c, errors.New("endpoint: credentials do not belong in the url")
		}
	}
	switch {
	case c.PartSize == 0:
		c.PartSize = DefaultPartSize
	case c.PartSize < MinPartSize || c.PartSize > MaxPartSize:
		return c, fmt.Errorf("part size %d not in [%d, %d] (5 MiB, 5 GiB)", c.PartSize, MinPartSize, MaxPartSize)
	}
	return c, nil
}

// checkBucket accepts S3 bucket names: 3 to 63 lower-case letters, digits,
// dots and hyphens, starting and ending with a letter or digit.
func checkBucket(b string) error {
	if len(b) < 3 || len(b) > 63 {
		return fmt.Errorf("bucket %q: length %d not in [3, 63]", b, len(b))
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		alnum := 'a' <= c && c <= 'z' || '0' <= c && c <= '9'
		if !alnum && ((c != '.' && c != '-') || i == 0 || i == len(b)-1) {
			return fmt.Errorf("bucket %q: invalid character %q at %d", b, c, i)
		}
	}
	return nil
}

// parseSize reads "16777216", "16MiB", "512KiB" or "1GiB".
func parseSize(s string) (int64, error) {
	mult := int64(1)
	num := s
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}} {
		if strings.HasSuffix(s, u.suffix) {
			num, mult = strings.TrimSuffix(s, u.suffix), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 {
		return 0, errors.New("want a positive byte count with an optional KiB, MiB or GiB suffix")
	}
	if n > (1<<62)/mult {
		return 0, errors.New("too large")
	}
	return n * mult, nil
}
