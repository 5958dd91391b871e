package events

import (
	"errors"
	"strconv"
	"time"
	"unicode/utf8"
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
	b = appendString(b, d.Repository)
	b = appendField(b, "tag", d.Tag)
	b = appendField(b, "digest", d.Digest)
	b = appendField(b, "media_type", d.MediaType)
	b = append(b, `,"type":`...)
	b = appendString(b, d.Type)
	b = append(b, `,"method":`...)
	b = appendString(b, d.Method)
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
		b = appendString(b, e.Code)
		b = append(b, `,"message":`...)
		b = appendString(b, e.Message)
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
			b = appendString(b, id)
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
			b = appendString(b, f.v)
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
	return appendString(b, v)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string the way encoding/json does:
// <, > and & escaped for HTML, U+2028 and U+2029 escaped for JavaScript,
// invalid UTF-8 replaced by U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
