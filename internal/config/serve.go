package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// Serve configures `chainctl registry serve`.
type Serve struct {
	// Listen is the host:port the registry listens on.
	Listen string
	// DataDir holds the default blob directory and database. It is empty
	// only when both Storage and Database were set explicitly and no
	// default data directory could be found.
	DataDir  string
	Storage  Storage
	Database Database
	// Blobs says how blob downloads and abandoned uploads are handled.
	Blobs Blobs
	// Limits bound slow request bodies and open uploads.
	Limits Limits
	// KeyEncryption says which keys seal the signing keys at rest.
	KeyEncryption KeyEncryption
	TLS           TLS
	// ExternalURL is the URL clients reach the registry at, without a
	// trailing slash: the base of the token realm (<ExternalURL>/token) and
	// the registry's OIDC issuer. Default: http://<listen> (https with
	// TLS), 127.0.0.1 standing for an unspecified host. With a listen port
	// of 0 the default has port 0 too, until the port is known.
	ExternalURL string
	// Dev runs the embedded development identity provider. It is only
	// allowed when the registry listens on, and is reached at, a loopback
	// address.
	Dev bool
	// Auth is the auth section of the file, with defaults filled in.
	Auth Auth
	// Events is the events section of the file, with defaults filled in.
	Events Events
	// File is the configuration file that was read, "" if none.
	File string
	// Warnings are what the caller should tell the operator about the
	// configuration, such as a key spelt the deprecated way.
	Warnings []string
}

// StorageType names a blob store backend.
type StorageType string

// Storage backends.
const (
	// StorageFile keeps blobs in a local directory.
	StorageFile StorageType = "file"
	// StorageS3 keeps blobs in an S3-compatible bucket (Cloudflare R2, AWS
	// S3, ...); package storage/s3 parses the URL.
	StorageS3 StorageType = "s3"
)

// Storage says where blob bytes live.
type Storage struct {
	Type StorageType
	// Path is the directory, for StorageFile.
	Path string
	// Sync makes the file store fsync each blob before acknowledging it
	// (file:///path?sync=true): durable across power loss, slower.
	Sync bool
	// URL is the s3://BUCKET[/PREFIX]?... URL, for StorageS3. It holds no
	// credentials: those come from the AWS environment or config file.
	URL string
}

// String returns the storage as a URL, as written in configuration.
func (s Storage) String() string {
	if s.Type == StorageS3 {
		return s.URL
	}
	u := string(s.Type) + "://" + filepath.ToSlash(s.Path)
	if s.Sync {
		u += "?sync=true"
	}
	return u
}

// DatabaseType names a metadata store backend.
type DatabaseType string

// Metadata backends.
const (
	// DatabaseSQLite is an embedded SQLite database file.
	DatabaseSQLite DatabaseType = "sqlite"
	// DatabasePostgres is a PostgreSQL server, which replicas share.
	DatabasePostgres DatabaseType = "postgres"
)

// Database says where metadata lives.
type Database struct {
	Type DatabaseType
	// Path is the database file, for DatabaseSQLite.
	Path string
	// URL is the postgres:// connection URL, for DatabasePostgres. It may
	// hold a password: print String, never URL.
	URL string
}

// String returns the database as a URL, as written in configuration, with
// any password replaced by "xxxxx".
func (d Database) String() string {
	if d.Type == DatabasePostgres {
		return redactURL(d.URL)
	}
	return string(d.Type) + "://" + filepath.ToSlash(d.Path)
}

// redactURL is raw with its password, and any password= query parameter,
// replaced by "xxxxx".
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// TLS holds the certificate and key files for HTTPS. Both are empty for
// plain HTTP.
type TLS struct {
	CertFile string
	KeyFile  string
}

// Enabled reports whether the registry serves HTTPS.
func (t TLS) Enabled() bool { return t.CertFile != "" }

// serveKeys are the settings Serve reads, in documentation order.
var serveKeys = []string{KeyListen, KeyDataDir, KeyStorage, KeyDatabase, KeyTLSCert, KeyTLSKey, KeyExternalURL, KeyDev,
	KeyBlobRedirect, KeyPresignTTL, KeyPublicBlobURL, KeyUploadTTL, KeyScrubRate, KeyScrubInterval,
	KeyBodyIdleTimeout, KeyBodyMinRate, KeyMaxUploadsPerPrincipal, KeyMaxUploadsPerRepo, KeyKEKFile}

// AddServeFlags defines the serve settings on fs, with defaults that do not
// depend on the machine so that generated help and docs are stable.
func AddServeFlags(fs *pflag.FlagSet) {
	env := func(key string) string { return "; env " + EnvName(key) }
	AddBackendFlags(fs)
	fs.String(KeyListen, DefaultListen, "`host:port` to listen on"+env(KeyListen))
	fs.String(KeyTLSCert, "", "serve HTTPS with this PEM certificate `file` (needs --tls-key)"+env(KeyTLSCert))
	fs.String(KeyTLSKey, "", "PEM private key `file` for --tls-cert"+env(KeyTLSKey))
	fs.String(KeyExternalURL, "", "`url` clients reach the registry at, the base of its token realm and issuer; default: http(s)://<listen>"+env(KeyExternalURL))
	fs.Bool(KeyDev, false, "run the embedded development identity provider, whose user owns every repository; loopback only"+env(KeyDev))
	addBlobFlags(fs, env)
	addLimitFlags(fs, env)
	addKEKFlags(fs, env)
}

// AddBackendFlags defines only the settings that say where a registry's
// data lives — the configuration file, data directory, storage and
// database — for commands that work on that data beside a running server
// (`registry gc`). LoadServe takes the rest from the environment, the file
// or the defaults.
func AddBackendFlags(fs *pflag.FlagSet) {
	env := func(key string) string { return "; env " + EnvName(key) }
	fs.String(KeyConfig, "", "read settings from this YAML `file`"+env(KeyConfig))
	fs.String(KeyDataDir, "", "`directory` for blobs and metadata; default: chainctl in your user data directory"+env(KeyDataDir))
	fs.String(KeyStorage, "", "blob storage `url`: file://<path>[?sync=true], a path, or s3://<bucket>[/<prefix>]?endpoint=<url>&region=auto (R2, S3); default: file://<data-dir>/blobs"+env(KeyStorage))
	fs.String(KeyDatabase, "", "metadata database `url`: sqlite://<path>, a path, or postgres://user@host/db; default: <data-dir>/registry.db"+env(KeyDatabase))
}

// LoadServe reads the serve settings: the flags on fs that were set, then
// CHAINCTL_* environment variables, then the YAML file named by --config or
// CHAINCTL_CONFIG, then defaults. fs must hold the flags AddServeFlags
// defines; flags it lacks are skipped. The result is validated: an
// invalid configuration is reported as Errors, every problem at once.
func LoadServe(fs *pflag.FlagSet, opts ...Option) (*Serve, error) {
	o := newOptions(opts)
	v := viper.New()
	v.SetDefault(KeyListen, DefaultListen)

	file := o.getenv(EnvName(KeyConfig))
	if f := fs.Lookup(KeyConfig); f != nil && f.Changed {
		file = f.Value.String()
	}
	// Viper ranks its config layer below flags; merging the environment
	// over the file's values in that layer gives flag > env > file, without
	// viper reading the process environment behind the caller's back.
	layer := map[string]any{}
	var af *authFile
	var ef *eventsFile
	var errs Errors
	var warnings []string
	if file != "" {
		s, err := readFile(file, serveKeys)
		if _, ok := err.(Errors); err != nil && !ok {
			return nil, err // unreadable or not YAML: nothing more to check
		}
		// Problems with some keys: check the rest too, to report all.
		errs.add(err)
		layer, af, ef, warnings = s.flat, s.auth, s.events, s.warnings
	}
	for _, k := range serveKeys {
		if val := o.getenv(EnvName(k)); val != "" {
			layer[k] = val
		}
	}
	if err := v.MergeConfigMap(layer); err != nil {
		return nil, fmt.Errorf("merge configuration: %w", err)
	}
	for _, k := range serveKeys {
		if f := fs.Lookup(k); f != nil {
			if err := v.BindPFlag(k, f); err != nil {
				return nil, fmt.Errorf("bind flag --%s: %w", k, err)
			}
		}
	}
	cfg, err := o.resolveServe(func(k string) string { return strings.TrimSpace(v.GetString(k)) }, af)
	errs.add(err)
	var eerr error
	cfg.Events, eerr = resolveEvents(ef)
	errs.add(eerr)
	if err := errs.err(); err != nil {
		return nil, err
	}
	cfg.File = file
	cfg.Warnings = warnings
	return cfg, nil
}

// resolveServe applies derived defaults (storage and database under the data
// directory, the external URL from the listen address), parses URLs and
// validates. af is the file's auth section, nil if none. It checks every
// setting, and returns every problem (as Errors) with the settings it
// could resolve.
func (o options) resolveServe(get func(string) string, af *authFile) (*Serve, error) {
	var errs Errors
	cfg := &Serve{Listen: get(KeyListen)}
	listenErr := checkListen(cfg.Listen)
	errs.add(listenErr)

	// Explicit locations are parsed first, so that a wrong scheme is
	// reported even where no default data directory can be found.
	var err error
	storage, database := get(KeyStorage), get(KeyDatabase)
	if storage != "" {
		cfg.Storage, err = o.parseStorage(storage)
		errs.add(err)
	}
	if database != "" {
		cfg.Database, err = o.parseDatabase(database)
		errs.add(err)
	}

	dataDir := get(KeyDataDir)
	if dataDir == "" {
		d, err := o.defaultDataDir()
		if err != nil && (storage == "" || database == "") {
			errs.add(err)
		}
		dataDir = d
	}
	if dataDir != "" {
		if d, err := o.expandPath(dataDir); err != nil {
			errs.add(fmt.Errorf("%s: %w", KeyDataDir, err))
		} else {
			cfg.DataDir = d
		}
	}
	if storage == "" {
		cfg.Storage = Storage{Type: StorageFile, Path: filepath.Join(cfg.DataDir, "blobs")}
	}
	if database == "" {
		cfg.Database = Database{Type: DatabaseSQLite, Path: filepath.Join(cfg.DataDir, "registry.db")}
	}

	cfg.Blobs, err = resolveBlobs(get, cfg.Storage)
	errs.add(err)
	cfg.Limits, err = resolveLimits(get)
	errs.add(err)
	cfg.KeyEncryption, err = o.resolveKEK(get, cfg)
	errs.add(err)

	cert, key := get(KeyTLSCert), get(KeyTLSKey)
	switch {
	case cert != "" && key == "":
		errs.add(fmt.Errorf("%s is set but %s is not: set both to serve HTTPS, or neither", KeyTLSCert, KeyTLSKey))
	case cert == "" && key != "":
		errs.add(fmt.Errorf("%s is set but %s is not: set both to serve HTTPS, or neither", KeyTLSKey, KeyTLSCert))
	case cert != "":
		cfg.TLS.CertFile, err = o.expandPath(cert)
		if err != nil {
			errs.add(fmt.Errorf("%s: %w", KeyTLSCert, err))
		}
		cfg.TLS.KeyFile, err = o.expandPath(key)
		if err != nil {
			errs.add(fmt.Errorf("%s: %w", KeyTLSKey, err))
		}
	}

	// The external URL is derived from the listen address unless set: a
	// bad listen address has been reported already.
	external := get(KeyExternalURL)
	if listenErr == nil || external != "" {
		cfg.ExternalURL, err = resolveExternalURL(external, cfg.Listen, cfg.TLS.Enabled())
		errs.add(err)
	}
	if dev := get(KeyDev); dev != "" {
		if cfg.Dev, err = strconv.ParseBool(dev); err != nil {
			errs.add(fmt.Errorf("%s %q: want true or false", KeyDev, dev))
		}
	}
	if cfg.Dev && listenErr == nil && cfg.ExternalURL != "" {
		errs.add(checkDev(cfg.Listen, cfg.ExternalURL))
	}
	externalURL := cfg.ExternalURL
	if externalURL == "" {
		// Its problem is reported above; a stand-in lets the auth
		// section be checked too. Nothing is returned with it.
		externalURL = "http://127.0.0.1:5000"
	}
	cfg.Auth, err = resolveAuth(af, externalURL)
	errs.add(err)
	return cfg, errs.err()
}

// resolveExternalURL validates and normalizes the configured external URL
// s, or derives it from the listen address.
func resolveExternalURL(s, listen string, tls bool) (string, error) {
	if s != "" {
		u, err := parseExternalURL(s)
		if err != nil {
			return "", fmt.Errorf("%s %q: %w", KeyExternalURL, s, err)
		}
		return u, nil
	}
	host, port, _ := net.SplitHostPort(listen) // checked by checkListen
	if ip, err := netip.ParseAddr(host); host == "" || err == nil && ip.IsUnspecified() {
		// Every interface includes loopback, and a client on this machine
		// is the only one whose address is certain.
		host = "127.0.0.1"
	}
	scheme := "http"
	if tls {
		scheme = "https"
	}
	u := (&url.URL{Scheme: scheme, Host: net.JoinHostPort(host, port)}).String()
	derived, err := parseExternalURL(u)
	if err != nil {
		return "", fmt.Errorf("%s: cannot derive it from %s %q (%v); set it", KeyExternalURL, KeyListen, listen, err)
	}
	return derived, nil
}

// parseExternalURL accepts an absolute http or https URL with no user
// info, query, fragment or path, and returns it with scheme and host in
// lower case and no trailing slash. A path is refused because the registry
// answers at the root of its host: OCI clients always request /v2/ there,
// and /token, /oauth/token and the OIDC documents sit beside it.
func parseExternalURL(s string) (string, error) {
	u, err := url.Parse(s)
	switch {
	case err != nil || u.Opaque != "" || u.Hostname() == "" || u.Scheme != "http" && u.Scheme != "https":
		return "", errors.New("want an absolute http or https URL, such as https://registry.example.com")
	case u.User != nil:
		return "", errors.New("want no user info")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(s, "#"):
		return "", errors.New("want no query or fragment")
	case strings.Trim(u.Path, "/") != "":
		return "", fmt.Errorf("want no path (got %q): the registry serves /v2/ and /token at the root of its host", u.Path)
	}
	u.Host = strings.ToLower(u.Host)
	u.Path, u.RawPath = "", ""
	return u.String(), nil
}

// checkDev refuses dev mode unless the registry listens on, and is
// reached at, a loopback address.
func checkDev(listen, externalURL string) error {
	const why = "dev mode is loopback-only, because its identity provider logs in anyone who reaches it as the owner of every repository"
	host, _, _ := net.SplitHostPort(listen)
	if !isLoopback(host) {
		what := fmt.Sprintf("%q", host)
		if host == "" {
			what = "every interface"
		}
		return fmt.Errorf("%s: %s %q listens on %s; listen on 127.0.0.1, ::1 or localhost, such as --%s 127.0.0.1:5000", why, KeyListen, listen, what, KeyListen)
	}
	if u, err := url.Parse(externalURL); err != nil || !isLoopback(u.Hostname()) {
		return fmt.Errorf("%s: %s %q is not a loopback URL; leave it unset or use http://127.0.0.1:<port>", why, KeyExternalURL, externalURL)
	}
	return nil
}

func checkListen(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%s %q: want host:port, such as 127.0.0.1:5000 or :5000: %w", KeyListen, addr, err)
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || port == "" {
		return fmt.Errorf("%s %q: port %q is not a number from 0 to 65535", KeyListen, addr, port)
	} else if n == 0 && host == "" {
		// ":0" is allowed (tests pick a free port), but only with a host,
		// so that a typo cannot silently open every interface.
		return fmt.Errorf("%s %q: a random port needs a host, such as 127.0.0.1:0", KeyListen, addr)
	}
	if strings.ContainsAny(host, " /") {
		return fmt.Errorf("%s %q: invalid host %q", KeyListen, addr, host)
	}
	return nil
}

// splitURL splits "scheme://rest". A value without "://" is a plain path
// (which also keeps Windows paths such as C:\data out of scheme parsing).
func splitURL(s string) (scheme, rest string, isURL bool) {
	scheme, rest, isURL = strings.Cut(s, "://")
	return strings.ToLower(scheme), rest, isURL
}

// urlPath turns the part after "scheme://" into a path: "/abs" stays
// absolute, "rel" is relative to the working directory, and on Windows
// "/C:/x" is C:/x.
func (o options) urlPath(rest string) string {
	if o.goos == "windows" && len(rest) >= 3 && rest[0] == '/' && rest[2] == ':' {
		return rest[1:]
	}
	return rest
}

func (o options) parseStorage(s string) (Storage, error) {
	scheme, rest, isURL := splitURL(s)
	var sync bool
	if isURL {
		switch scheme {
		case "file":
			rest, query, _ := strings.Cut(rest, "?")
			var err error
			if sync, err = parseFileQuery(query); err != nil {
				return Storage{}, fmt.Errorf("%s %q: %w", KeyStorage, s, err)
			}
			s = o.urlPath(rest)
		case "s3":
			// Parsed in full by package storage/s3 when the store opens.
			if bucket, _, _ := strings.Cut(strings.SplitN(rest, "?", 2)[0], "/"); bucket == "" {
				return Storage{}, fmt.Errorf("%s %q: s3:// needs a bucket, such as s3://images?endpoint=https://<account>.r2.cloudflarestorage.com&region=auto", KeyStorage, s)
			}
			return Storage{Type: StorageS3, URL: s}, nil
		case "r2", "gs", "azure":
			return Storage{}, fmt.Errorf("%s %q: %s:// storage is not supported; for R2 use s3://<bucket>?endpoint=https://<account>.r2.cloudflarestorage.com&region=auto", KeyStorage, s, scheme)
		default:
			return Storage{}, fmt.Errorf("%s %q: unknown scheme %q; supported: file://<path>, a plain path, s3://<bucket>", KeyStorage, s, scheme)
		}
	}
	if s == "" {
		return Storage{}, fmt.Errorf("%s: file:// needs a path, such as file:///var/lib/chainctl/blobs", KeyStorage)
	}
	p, err := o.expandPath(s)
	if err != nil {
		return Storage{}, fmt.Errorf("%s: %w", KeyStorage, err)
	}
	return Storage{Type: StorageFile, Path: p, Sync: sync}, nil
}

// parseFileQuery reads the options of a file:// storage URL; sync is the
// only one.
func parseFileQuery(query string) (sync bool, err error) {
	if query == "" {
		return false, nil
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return false, fmt.Errorf("bad query: %w", err)
	}
	for k, vs := range q {
		if k != "sync" {
			return false, fmt.Errorf("unknown option %q; file:// storage takes only sync=true|false", k)
		}
		if sync, err = strconv.ParseBool(vs[len(vs)-1]); err != nil {
			return false, fmt.Errorf("sync=%s: want true or false", vs[len(vs)-1])
		}
	}
	return sync, nil
}

func (o options) parseDatabase(s string) (Database, error) {
	scheme, rest, isURL := splitURL(s)
	if isURL {
		switch scheme {
		case "sqlite", "sqlite3":
			s = o.urlPath(rest)
		case "postgres", "postgresql":
			// The URL may hold a password: errors quote only its redacted form.
			u, err := url.Parse(s)
			if err != nil || u.Host == "" {
				return Database{}, fmt.Errorf("%s: not a postgres://[user[:password]@]host[:port]/database URL", KeyDatabase)
			}
			return Database{Type: DatabasePostgres, URL: s}, nil
		case "mysql":
			return Database{}, fmt.Errorf("%s: %s:// databases are not supported; supported: sqlite://<path>, a plain path, postgres://", KeyDatabase, scheme)
		default:
			return Database{}, fmt.Errorf("%s: unknown scheme %q; supported: sqlite://<path>, a plain path, postgres://", KeyDatabase, scheme)
		}
	}
	if s == "" {
		return Database{}, fmt.Errorf("%s: sqlite:// needs a path, such as sqlite:///var/lib/chainctl/registry.db", KeyDatabase)
	}
	p, err := o.expandPath(s)
	if err != nil {
		return Database{}, fmt.Errorf("%s: %w", KeyDatabase, err)
	}
	return Database{Type: DatabaseSQLite, Path: p}, nil
}
