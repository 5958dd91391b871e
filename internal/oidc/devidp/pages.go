package devidp

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The pages are html/template, so every value is escaped for its context.
// The style sheet is inline and allowed by its hash in the
// Content-Security-Policy; no script runs on any page.

type loginPage struct {
	Issuer    string
	Action    string
	User      User
	ClientID  string
	ReturnTo  string
	Scopes    []string
	RequestID string
	CSRF      string
}

type deviceEntryPage struct {
	Issuer   string
	Action   string
	UserCode string
	Error    string
}

type deviceConfirmPage struct {
	Issuer   string
	Action   string
	User     User
	ClientID string
	Scopes   []string
	UserCode string
	CSRF     string
}

type messagePage struct {
	Issuer string
	Title  string
	Text   string
}

const pageCSS = `
:root{color-scheme:light dark;--bg:#f3f4f7;--card:#fff;--text:#1c2230;--muted:#5d6677;--line:#dde1e8;
--accent:#2456d6;--on-accent:#fff;--warn-bg:#fff5d9;--warn-line:#e6b94a;--warn-text:#5f4300;--bad:#c0392b}
@media (prefers-color-scheme:dark){:root{--bg:#13161c;--card:#1c2029;--text:#e6e9ef;--muted:#9aa3b2;
--line:#2f3542;--accent:#5b8cff;--on-accent:#0b1020;--warn-bg:#372b0a;--warn-line:#8a6d1f;--warn-text:#f3d98b;--bad:#ff7b6b}}
*{box-sizing:border-box}
body{margin:0;min-height:100vh;display:flex;flex-direction:column;align-items:center;justify-content:center;
padding:24px;background:var(--bg);color:var(--text);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{width:100%;max-width:420px}
.warn{border:1px solid var(--warn-line);background:var(--warn-bg);color:var(--warn-text);border-radius:8px;
padding:10px 14px;font-size:13px;margin-bottom:16px}
.card{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:28px;box-shadow:0 1px 3px rgba(0,0,0,.06)}
h1{font-size:20px;margin:0 0 4px}
.sub{color:var(--muted);margin:0 0 16px}
.user{display:flex;align-items:center;gap:12px;padding:12px;border:1px solid var(--line);border-radius:10px;margin-bottom:16px}
.avatar{flex:none;width:40px;height:40px;border-radius:50%;background:var(--accent);color:var(--on-accent);
display:flex;align-items:center;justify-content:center;font-weight:700}
.name{font-weight:600}.meta{color:var(--muted);font-size:13px;word-break:break-all}
dl{display:grid;grid-template-columns:auto 1fr;gap:4px 12px;font-size:13px;margin:0 0 20px}
dt{color:var(--muted)}dd{margin:0;word-break:break-all}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.95em}
.actions{display:flex;gap:8px}
button{flex:1;font:inherit;font-weight:600;padding:10px 14px;border-radius:8px;border:1px solid var(--line);
background:transparent;color:var(--text);cursor:pointer}
button.primary{background:var(--accent);border-color:var(--accent);color:var(--on-accent)}
button:focus-visible,input:focus-visible{outline:2px solid var(--accent);outline-offset:2px}
.code{font:600 28px/1.2 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;letter-spacing:.12em;text-align:center;
padding:14px;border:1px dashed var(--line);border-radius:10px;margin-bottom:16px}
label{display:block;font-size:13px;color:var(--muted);margin-bottom:6px}
input{width:100%;font:600 20px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;letter-spacing:.1em;
text-transform:uppercase;text-align:center;padding:10px 12px;border:1px solid var(--line);border-radius:8px;
background:transparent;color:var(--text);margin-bottom:16px}
.error{color:var(--bad);font-size:13px;margin:-8px 0 16px}
footer{color:var(--muted);font-size:12px;margin-top:16px;text-align:center;word-break:break-all}
`

const pagesTemplate = `
{{define "head"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{{.}} · chainctl development login</title>
<style>` + pageCSS + `</style></head>
<body><main>
<div class="warn" role="alert"><strong>Development identity provider.</strong> Not for production: anyone who can
reach this address can sign in as this user, with no password.</div>
{{end}}

{{define "foot"}}</main><footer>chainctl registry serve --dev · <code>{{.}}</code></footer></body></html>
{{end}}

{{define "user"}}<div class="user"><div class="avatar" aria-hidden="true">{{initial .}}</div>
<div><div class="name">{{or .Name .Subject}}</div>
<div class="meta">{{with .Email}}{{.}} · {{end}}sub <code>{{.Subject}}</code></div></div></div>
{{end}}

{{define "scopes"}}{{range $i, $s := .}}{{if $i}} {{end}}<code>{{$s}}</code>{{end}}{{end}}

{{define "login"}}{{template "head" "Sign in"}}
<div class="card">
<h1>chainctl development login</h1>
<p class="sub"><code>{{.ClientID}}</code> asks you to sign in as:</p>
{{template "user" .User}}
<dl><dt>Returns to</dt><dd><code>{{.ReturnTo}}</code></dd><dt>Scopes</dt><dd>{{template "scopes" .Scopes}}</dd></dl>
<form method="post" action="{{.Action}}">
<input type="hidden" name="request" value="{{.RequestID}}">
<input type="hidden" name="csrf_token" value="{{.CSRF}}">
<div class="actions">
<button type="submit" name="action" value="approve" id="signin" class="primary" autofocus>Sign in</button>
<button type="submit" name="action" value="cancel" id="cancel">Cancel</button>
</div>
</form>
</div>
{{template "foot" .Issuer}}{{end}}

{{define "device_entry"}}{{template "head" "Device sign-in"}}
<div class="card">
<h1>Device sign-in</h1>
<p class="sub">Enter the code shown in your terminal.</p>
<form method="get" action="{{.Action}}">
<label for="user_code">Code</label>
<input id="user_code" name="user_code" value="{{.UserCode}}" placeholder="XXXX-XXXX" maxlength="32"
 autocomplete="off" autocapitalize="characters" spellcheck="false" required autofocus>
{{with .Error}}<p class="error" role="alert">{{.}}</p>{{end}}
<div class="actions"><button type="submit" id="continue" class="primary">Continue</button></div>
</form>
</div>
{{template "foot" .Issuer}}{{end}}

{{define "device_confirm"}}{{template "head" "Approve device"}}
<div class="card">
<h1>Approve device sign-in</h1>
<p class="sub">A device running <code>{{.ClientID}}</code> asks to sign in as:</p>
{{template "user" .User}}
<p class="sub">Approve only if this code matches the one in your terminal:</p>
<div class="code" id="user-code">{{.UserCode}}</div>
<dl><dt>Scopes</dt><dd>{{template "scopes" .Scopes}}</dd></dl>
<form method="post" action="{{.Action}}">
<input type="hidden" name="user_code" value="{{.UserCode}}">
<input type="hidden" name="csrf_token" value="{{.CSRF}}">
<div class="actions">
<button type="submit" name="action" value="approve" id="approve" class="primary">Approve</button>
<button type="submit" name="action" value="deny" id="deny">Deny</button>
</div>
</form>
</div>
{{template "foot" .Issuer}}{{end}}

{{define "message"}}{{template "head" .Title}}
<div class="card"><h1 id="title">{{.Title}}</h1><p id="message">{{.Text}}</p></div>
{{template "foot" .Issuer}}{{end}}
`

func parsePages() (*template.Template, error) {
	t, err := template.New("pages").Funcs(template.FuncMap{"initial": initial}).Parse(pagesTemplate)
	if err != nil {
		return nil, fmt.Errorf("parse pages: %w", err)
	}
	return t, nil
}

// contentSecurityPolicy allows nothing but the inline style sheet, and no
// framing (so the Sign in button cannot be clickjacked).
func contentSecurityPolicy() string {
	sum := sha256.Sum256([]byte(pageCSS))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) +
		"'; frame-ancestors 'none'; base-uri 'none'"
}

// initial is the avatar letter of a user.
func initial(u User) string {
	s := u.Name
	if strings.TrimSpace(s) == "" {
		s = u.Subject
	}
	r, _ := utf8.DecodeRuneInString(strings.TrimSpace(s))
	if r == utf8.RuneError {
		return "?"
	}
	return string(unicode.ToUpper(r))
}

func (p *Provider) renderPage(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := p.pages.ExecuteTemplate(&buf, name, data); err != nil {
		p.logger.Error("devidp: render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", p.csp)
	h.Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (p *Provider) renderMessage(w http.ResponseWriter, status int, title, text string) {
	p.renderPage(w, status, "message", messagePage{Issuer: p.issuer, Title: title, Text: text})
}
