package config

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestUserRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chainctl", "config.yaml")
	u, err := LoadUser(path)
	if err != nil || u != (User{}) {
		t.Fatalf("LoadUser(missing) = %+v, %v, want zero, nil", u, err)
	}
	if err := SaveUser(path, User{Registry: "registry.example.com"}); err != nil {
		t.Fatalf("SaveUser() = %v", err)
	}
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("mode = %v, %v, want 0600", fi.Mode().Perm(), err)
		}
	}
	u, err = LoadUser(path)
	if err != nil || u.Registry != "registry.example.com" {
		t.Errorf("LoadUser() = %+v, %v, want registry.example.com", u, err)
	}
}

func TestLoadUserUnknownKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte("regsitry: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadUser(path); err == nil {
		t.Error("LoadUser(misspelt key) = nil error, want one")
	}
}
