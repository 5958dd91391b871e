package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// JWKS is a JSON Web Key Set (RFC 7517 §5) of public keys, held as JSON.
// In JSON and YAML it is written as the key set object, and read either
// as that object or as a string holding it.
type JWKS []byte

// MarshalJSON implements json.Marshaler.
func (k JWKS) MarshalJSON() ([]byte, error) {
	if len(k) == 0 {
		return []byte("null"), nil
	}
	if !json.Valid(k) {
		return nil, errors.New("issuer_keys: not JSON")
	}
	return k, nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (k *JWKS) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*k = nil
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		b = []byte(s)
	}
	return k.set(b)
}

// MarshalYAML implements yaml.Marshaler (of go.yaml.in/yaml/v3) by
// returning the key set as a YAML mapping.
func (k JWKS) MarshalYAML() (any, error) {
	if len(k) == 0 {
		return nil, nil
	}
	var v any
	if err := json.Unmarshal(k, &v); err != nil {
		return nil, fmt.Errorf("issuer_keys: %w", err)
	}
	return v, nil
}

// UnmarshalYAML reads a key set written as a YAML mapping or as a string
// of JSON. It uses the function-argument form of yaml's Unmarshaler so
// that this package need not import yaml.
func (k *JWKS) UnmarshalYAML(unmarshal func(any) error) error {
	var v any
	if err := unmarshal(&v); err != nil {
		return err
	}
	switch v := v.(type) {
	case nil:
		*k = nil
		return nil
	case string:
		return k.set([]byte(v))
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("issuer_keys: %w", err)
		}
		return k.set(b)
	}
}

// set stores b, which must be a JSON object, in canonical form.
func (k *JWKS) set(b []byte) error {
	c, err := canonicalJSON(b)
	if err != nil {
		return fmt.Errorf("issuer_keys: %w", err)
	}
	if c[0] != '{' {
		return errors.New("issuer_keys: want a JSON object {\"keys\": [...]}")
	}
	*k = JWKS(c)
	return nil
}

// canonicalJSON re-encodes one JSON value compactly with object members
// sorted, so that a key set written in JSON, in YAML or indented has one
// form, and key sets can be compared as bytes.
func canonicalJSON(b []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON value")
	}
	return json.Marshal(v)
}

// check validates the key set and returns its canonical form: an object with
// a non-empty "keys" array of EC, RSA or OKP public keys. Symmetric keys
// and private key members are refused: the registry only ever verifies.
func (k JWKS) check() ([]byte, error) {
	if len(k) > maxJWKSSize {
		return nil, fmt.Errorf("larger than %d bytes", maxJWKSSize)
	}
	c, err := canonicalJSON(k)
	if err != nil {
		return nil, err
	}
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(c, &set); err != nil {
		return nil, fmt.Errorf("want {\"keys\": [...]}: %v", err)
	}
	if len(set.Keys) == 0 {
		return nil, errors.New("no keys")
	}
	for i, key := range set.Keys {
		switch kty, _ := key["kty"].(string); kty {
		case "EC", "RSA", "OKP":
		default:
			return nil, fmt.Errorf("keys[%d]: kty %q: want EC, RSA or OKP", i, kty)
		}
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"} {
			if _, ok := key[private]; ok {
				return nil, fmt.Errorf("keys[%d]: has private member %q; give public keys only", i, private)
			}
		}
	}
	return c, nil
}
