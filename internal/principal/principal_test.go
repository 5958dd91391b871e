package principal

import (
	"context"
	"log/slog"
	"strings"
	"testing"
)

func TestKey(t *testing.T) {
	base := Principal{Identities: []Identity{{"team-ci", "a1"}}, Issuer: "https://ci", Subject: "repo:x"}
	same := Principal{Identities: []Identity{{"team-ci", "a1"}}, Issuer: "https://ci", Subject: "repo:x"}
	if base.Key() != same.Key() || len(base.Key()) != 32 {
		t.Errorf("Key() = %q and %q for the same principal, want equal, 32 characters", base.Key(), same.Key())
	}
	others := map[string]Principal{
		"another incarnation": {Identities: []Identity{{"team-ci", "a2"}}, Issuer: "https://ci", Subject: "repo:x"},
		"another identity":    {Identities: []Identity{{"team-cd", "a1"}}, Issuer: "https://ci", Subject: "repo:x"},
		"another subject":     {Identities: []Identity{{"team-ci", "a1"}}, Issuer: "https://ci", Subject: "repo:y"},
		"another issuer":      {Identities: []Identity{{"team-ci", "a1"}}, Issuer: "https://cj", Subject: "repo:x"},
		"parts shifted":       {Identities: []Identity{{"team-ci", "a1"}}, Issuer: "https://cirepo:x"},
		"two identities":      {Identities: []Identity{{"team-ci", "a1"}, {"b", "1"}}, Issuer: "https://ci", Subject: "repo:x"},
	}
	for name, p := range others {
		if p.Key() == base.Key() {
			t.Errorf("%s: Key() equals the base principal's", name)
		}
	}
	if (Principal{}).Key() != "" || !(Principal{}).Anonymous() {
		t.Error("the zero Principal is not anonymous with an empty key")
	}
}

func TestContext(t *testing.T) {
	if _, ok := FromContext(context.Background()); ok {
		t.Error("FromContext(empty) reports a principal")
	}
	p := Principal{Identities: []Identity{{"x", "1"}}}
	got, ok := FromContext(NewContext(context.Background(), p))
	if !ok || got.Key() != p.Key() || got.String() != "identity x" {
		t.Errorf("FromContext(NewContext(p)) = %v, %v", got, ok)
	}
}

func TestLogValue(t *testing.T) {
	var out strings.Builder
	log := slog.New(slog.NewTextHandler(&out, nil))
	log.Info("x", "principal", Principal{Identities: []Identity{{"team-ci", "a1"}}, Issuer: "https://ci", Subject: "repo:x"})
	log.Info("y", "principal", Principal{})
	for _, want := range []string{"principal.identity=team-ci", "principal.iss=https://ci", "principal.sub=repo:x", "principal=anonymous"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("log %q lacks %q", out.String(), want)
		}
	}
}
