package cmdutil

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestDebugTransport(t *testing.T) {
	const secret = "s3cr3t-token-value"
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Set-Cookie", "session="+secret)
		w.WriteHeader(http.StatusTeapot)
		_, _ = w.Write([]byte(secret))
	}))
	defer ts.Close()
	var buf bytes.Buffer
	c := &http.Client{Transport: &DebugTransport{Log: NewLogger(&buf, false, true)}}

	req, err := http.NewRequest(http.MethodPost, ts.URL+"/oauth/token?code="+secret+"#"+secret, strings.NewReader("subject_token="+secret))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+secret)
	req.URL.User = nil
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// A failing request: its error must not carry the query either.
	if _, err := c.Get("http://127.0.0.1:1/token?password=" + secret); err == nil {
		t.Fatal("request to a closed port succeeded")
	}

	out := buf.String()
	for _, want := range []string{`"method":"POST"`, `"url":"` + ts.URL + `/oauth/token"`, `"status":418`, `"http request failed"`} {
		if !strings.Contains(out, want) {
			t.Errorf("debug log lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, secret) {
		t.Errorf("debug log holds the secret:\n%s", out)
	}
}
