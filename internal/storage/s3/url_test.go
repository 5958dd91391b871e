package s3

import (
	"bytes"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/opencontainers/go-digest"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		name    string
		url     string
		want    Config
		wantErr string // substring of the error; "" for success
	}{
		{
			name: "bucket only",
			url:  "s3://my-bucket",
			want: Config{Bucket: "my-bucket", PartSize: DefaultPartSize},
		},
		{
			name: "r2",
			url:  "s3://blobs/registry/prod?endpoint=https://acct.r2.cloudflarestorage.com&region=auto&path_style=true&part_size=32MiB",
			want: Config{
				Bucket: "blobs", Prefix: "registry/prod/", Endpoint: "https://acct.r2.cloudflarestorage.com",
				Region: "auto", PathStyle: true, PartSize: 32 << 20,
			},
		},
		{
			name: "trailing slash prefix, byte part size",
			url:  "s3://b.example/p/?part_size=5242880&path_style=false",
			want: Config{Bucket: "b.example", Prefix: "p/", PartSize: 5 << 20},
		},
		{name: "GiB part size", url: "s3://bkt?part_size=1GiB", want: Config{Bucket: "bkt", PartSize: 1 << 30}},
		{name: "wrong scheme", url: "https://bkt", wantErr: `scheme "https"`},
		{name: "no bucket", url: "s3:///prefix", wantErr: "missing bucket"},
		{name: "opaque", url: "s3:bkt", wantErr: "want s3://BUCKET"},
		{name: "bad bucket", url: "s3://Bad_Bucket", wantErr: "invalid character"},
		{name: "short bucket", url: "s3://ab", wantErr: "length 2"},
		{name: "dot-dot prefix", url: "s3://bkt/a/../b", wantErr: "path segment"},
		{name: "part size too small", url: "s3://bkt?part_size=4MiB", wantErr: "part size"},
		{name: "part size too large", url: "s3://bkt?part_size=6GiB", wantErr: "part size"},
		{name: "part size garbage", url: "s3://bkt?part_size=lots", wantErr: "part_size"},
		{name: "part size negative", url: "s3://bkt?part_size=-5MiB", wantErr: "part_size"},
		{name: "path_style garbage", url: "s3://bkt?path_style=maybe", wantErr: "path_style"},
		{name: "endpoint not http", url: "s3://bkt?endpoint=ftp://x", wantErr: "endpoint"},
		{name: "endpoint without host", url: "s3://bkt?endpoint=https://", wantErr: "endpoint"},
		{name: "unknown parameter", url: "s3://bkt?colour=blue", wantErr: `unknown parameter "colour"`},
		{name: "repeated parameter", url: "s3://bkt?region=a&region=b", wantErr: "2 times"},
		{name: "fragment", url: "s3://bkt#x", wantErr: "fragment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseURL(tt.url)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("ParseURL(%q) = %+v, %v, want an error with %q", tt.url, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ParseURL(%q) = %+v, %v, want %+v, nil", tt.url, got, err, tt.want)
			}
		})
	}
}

const secret = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"

// TestParseURLSecrets checks that credentials put anywhere in a URL are
// refused without being repeated.
func TestParseURLSecrets(t *testing.T) {
	for _, u := range []string{
		"s3://AKIDEXAMPLE:" + secret + "@bkt",
		"s3://bkt?secret_access_key=" + secret,
		"s3://bkt?endpoint=https://AKID:" + secret + "@host",
		"s3://bkt?endpoint=" + secret,
		"s3://bkt?part_size=" + secret,
		"s3://bkt\x7f" + secret,
	} {
		_, err := ParseURL(u)
		if err == nil {
			t.Errorf("ParseURL(<url with secret>) = nil error, want an error")
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("ParseURL(<url with secret>) error %q contains the secret", err)
		}
	}
}

// TestSecretsNotInErrors checks that requests refused for bad credentials
// do not put the credentials in their errors.
func TestSecretsNotInErrors(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	cfg := e.config(t)
	wrong := credentials.NewStaticCredentialsProvider(e.srv.AccessKey, secret, "")
	_, err := New(ctx, cfg, WithCredentials(wrong))
	if err == nil {
		t.Fatal("New with a wrong secret = nil error, want an error")
	}
	for _, s := range []string{secret, e.srv.SecretKey} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("New with a wrong secret: error %q contains a secret", err)
		}
	}

	// Errors of a working store, after its credentials were revoked.
	st := e.newStore(t, cfg)
	st.client = newClientWith(t, st, wrong)
	dgst := digest.FromString("x")
	errs := []error{}
	_, err = st.Put(ctx, dgst, bytes.NewReader([]byte("x")))
	errs = append(errs, err)
	_, err = st.Stat(ctx, dgst)
	errs = append(errs, err)
	errs = append(errs, st.StartUpload(ctx, "u"))
	for _, err := range errs {
		if err == nil {
			t.Error("request with a wrong secret = nil error, want an error")
			continue
		}
		if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), e.srv.SecretKey) {
			t.Errorf("error %q contains a secret", err)
		}
	}
}

// newClientWith returns a client for s's endpoint with other credentials.
func newClientWith(t *testing.T, s *Store, creds aws.CredentialsProvider) *s3.Client {
	t.Helper()
	o := s.client.Options()
	return s3.New(s3.Options{
		BaseEndpoint:               o.BaseEndpoint,
		Region:                     o.Region,
		UsePathStyle:               o.UsePathStyle,
		Credentials:                creds,
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}
