package main

import (
	"fmt"
	"strings"
)

// challenge is a parsed WWW-Authenticate challenge (RFC 7235 §2.1).
type challenge struct {
	scheme string            // as sent; compare case-insensitively
	params map[string]string // names lower-cased
}

// parseChallenges parses the challenges of WWW-Authenticate header
// values. A value may hold several challenges separated by commas
// (`Basic realm="a", Bearer realm="b"`); parameter values may be tokens
// or quoted strings with backslash escapes. Token68 credentials and
// malformed parameters are skipped: a client only needs the Bearer
// challenge's parameters.
func parseChallenges(values []string) []challenge {
	var out []challenge
	for _, v := range values {
		p := headerParser{s: v}
		for {
			p.skip(" \t,")
			scheme := p.token()
			if scheme == "" {
				if p.done() {
					break
				}
				p.i++ // a stray character; skip it
				continue
			}
			ch := challenge{scheme: scheme, params: map[string]string{}}
			for {
				p.skip(" \t,")
				mark := p.i
				name := p.token()
				p.skip(" \t")
				if name == "" || !p.consume('=') {
					p.i = mark // the next challenge's scheme, or the end
					break
				}
				p.skip(" \t")
				ch.params[strings.ToLower(name)] = p.value()
			}
			out = append(out, ch)
		}
	}
	return out
}

// bearerChallenge returns the realm and service of the Bearer challenge
// among the WWW-Authenticate values.
func bearerChallenge(values []string) (realm, service string, err error) {
	for _, ch := range parseChallenges(values) {
		if !strings.EqualFold(ch.scheme, "Bearer") {
			continue
		}
		if ch.params["realm"] == "" {
			return "", "", fmt.Errorf("bearer challenge without a realm: %q", values)
		}
		return ch.params["realm"], ch.params["service"], nil
	}
	return "", "", fmt.Errorf("no bearer challenge in WWW-Authenticate %q", values)
}

// headerParser walks one header value.
type headerParser struct {
	s string
	i int
}

func (p *headerParser) done() bool { return p.i >= len(p.s) }

func (p *headerParser) skip(chars string) {
	for p.i < len(p.s) && strings.IndexByte(chars, p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *headerParser) consume(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

// token reads an RFC 9110 token (tchar*), or "".
func (p *headerParser) token() string {
	start := p.i
	for p.i < len(p.s) && isTchar(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i]
}

// value reads a token or a quoted string, unescaping the latter. An
// unterminated quoted string runs to the end of the value.
func (p *headerParser) value() string {
	if !p.consume('"') {
		return p.token()
	}
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		p.i++
		switch {
		case c == '"':
			return b.String()
		case c == '\\' && p.i < len(p.s):
			b.WriteByte(p.s[p.i])
			p.i++
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isTchar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}
