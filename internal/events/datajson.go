package events

import (
	"errors"
	"strconv"
	"time"

	"github.com/chainctl/chainctl/internal/jsonenc"
)

// MarshalJSON encodes d as encoding/json would, byte for byte (the test
// holds it to that), without reflection: every pull a registry serves is
// encoded on the request path, and reflection was a tenth of a manifest
// GET's time there.
func (d Data) MarshalJSON() ([]byte, error) {
	if y := d.When.Year(); y < 0 || y > 9999 {
		return nil, errors.New("event time: year outside of range [0,9999]")
	}
	// Room for the names, quotes and time, and the values: one
	// allocation, as the sizes of a manifest pull's event go.
	n := 352 + len(d.Repository) + len(d.Tag) + len(d.Digest) + len(d.MediaType) + len(d.RemoteAddr) + len(d.UserAgent) +
		len(d.Actor.Issuer) + len(d.Actor.Subject) + len(d.Actor.PullToken) + len(d.Previous)
	for _, id := range d.Actor.Identities {
		n += len(id) + 3
	}
	if d.Error != nil {
		n += len(d.Error.Code) + len(d.Error.Message)
	}
	return d.appendJSON(make([]byte, 0, n)), nil
}

func (d *Data) appendJSON(b []byte) []byte {
	b = append(b, `{"repository":`...)
	b = jsonenc.AppendString(b, d.Repository)
	b = appendField(b, "tag", d.Tag)
	b = appendField(b, "digest", d.Digest)
	b = appendField(b, "media_type", d.MediaType)
	b = append(b, `,"type":`...)
	b = jsonenc.AppendString(b, d.Type)
	b = append(b, `,"method":`...)
	b = jsonenc.AppendString(b, d.Method)
	b = append(b, `,"when":"`...)
	b = d.When.AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	b = appendField(b, "remote_addr", d.RemoteAddr)
	b = appendField(b, "user_agent", d.UserAgent)
	b = append(b, `,"actor":{`...)
	b = d.Actor.appendJSON(b)
	b = append(b, '}')
	b = appendField(b, "previous", d.Previous)
	if e := d.Error; e != nil {
		b = append(b, `,"error":{"status":`...)
		b = strconv.AppendInt(b, int64(e.Status), 10)
		b = append(b, `,"code":`...)
		b = jsonenc.AppendString(b, e.Code)
		b = append(b, `,"message":`...)
		b = jsonenc.AppendString(b, e.Message)
		b = append(b, '}')
	}
	return append(b, '}')
}

// appendJSON appends a's fields, without braces.
func (a *Actor) appendJSON(b []byte) []byte {
	n := len(b)
	if len(a.Identities) > 0 {
		b = append(b, `"identities":[`...)
		for i, id := range a.Identities {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonenc.AppendString(b, id)
		}
		b = append(b, ']')
	}
	for _, f := range [...]struct{ name, v string }{{"issuer", a.Issuer}, {"subject", a.Subject}, {"pull_token", a.PullToken}} {
		if f.v != "" {
			if len(b) > n {
				b = append(b, ',')
			}
			b = append(b, '"')
			b = append(b, f.name...)
			b = append(b, `":`...)
			b = jsonenc.AppendString(b, f.v)
		}
	}
	if a.Anonymous {
		if len(b) > n {
			b = append(b, ',')
		}
		b = append(b, `"anonymous":true`...)
	}
	return b
}

// appendField appends ,"name":v unless v is empty (omitempty).
func appendField(b []byte, name, v string) []byte {
	if v == "" {
		return b
	}
	b = append(b, `,"`...)
	b = append(b, name...)
	b = append(b, `":`...)
	return jsonenc.AppendString(b, v)
}
