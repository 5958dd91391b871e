package events

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"
)

// reflected is Data without its MarshalJSON: what encoding/json makes of
// the same fields.
type reflected Data

func TestDataJSONMatchesEncodingJSON(t *testing.T) {
	when := time.Date(2026, 12, 7, 16, 30, 0, 123456789, time.FixedZone("x", 3600))
	cases := []Data{
		{Repository: "acme/app", Type: KindManifest, Method: "GET", When: when, Actor: Actor{Anonymous: true}},
		{Repository: "acme/app", Tag: "v1", Digest: "sha256:abc", MediaType: "application/vnd.oci.image.manifest.v1+json",
			Type: KindManifest, Method: "PUT", When: when.UTC(), RemoteAddr: "192.0.2.1", UserAgent: "crane/0.20 (go)",
			Actor:    Actor{Identities: []string{"ci", "deploy"}, Issuer: "https://issuer.test", Subject: "repo:acme/app"},
			Previous: "sha256:def", Error: &Error{Status: 403, Code: "DENIED", Message: `not "yours" <here> & there`}},
		{Repository: "r", Type: KindBlob, Method: "HEAD", When: time.Unix(0, 0).UTC(), Actor: Actor{PullToken: "ptk_1"},
			UserAgent: "bad\xffutf8\x00\x1f\t\n\r\b\f\\\u2028\u2029é😀"},
		{Repository: "r", Type: KindBlob, Method: "GET", When: when, Actor: Actor{Subject: "only-subject"}, Error: &Error{}},
		{Repository: "r", Type: KindBlob, Method: "GET", When: when, Actor: Actor{}},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "Z", "/", "\"", "\\", "<", ">", "&", "\x00", "\x7f", "\x80", "\xc3", "é", "\u2028", "\u2029", "\ufffd", " ", "\n", "😀", "\xed\xa0\x80"}
	random := func() string {
		var s string
		for range rng.IntN(12) {
			s += alphabet[rng.IntN(len(alphabet))]
		}
		return s
	}
	for range 500 {
		d := Data{Repository: random(), Tag: random(), Digest: random(), MediaType: random(), Type: random(), Method: random(),
			When: time.Unix(rng.Int64N(1<<35), rng.Int64N(1e9)), RemoteAddr: random(), UserAgent: random(), Previous: random(),
			Actor: Actor{Issuer: random(), Subject: random(), PullToken: random(), Anonymous: rng.IntN(2) == 0}}
		for range rng.IntN(3) {
			d.Actor.Identities = append(d.Actor.Identities, random())
		}
		if rng.IntN(2) == 0 {
			d.Error = &Error{Status: rng.IntN(600), Code: random(), Message: random()}
		}
		cases = append(cases, d)
	}
	far := Data{When: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}
	if _, err := json.Marshal(far); err == nil {
		t.Error("MarshalJSON of a time past year 9999 succeeded; encoding/json refuses it")
	}
	for _, d := range cases {
		want, err := json.Marshal(reflected(d))
		if err != nil {
			t.Fatal(err)
		}
		got, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("MarshalJSON of %#v\n got %s\nwant %s", d, got, want)
		}
	}
}
