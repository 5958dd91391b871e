package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/chainctl/chainctl/internal/toolpath"
)

// The S3 servers chainctl-s3 can keep its bucket on: -s3-server's values.
// Two, so that a limit of one server is not taken for chainctl's.
const (
	s3Versitygw = "versitygw"
	s3SeaweedFS = "seaweedfs"
)

// s3Servers lists -s3-server's values, the default first.
func s3Servers() []string { return []string{s3Versitygw, s3SeaweedFS} }

// s3ServerLabel is how the table and messages name server.
func s3ServerLabel(server string) string {
	if server == s3SeaweedFS {
		return "SeaweedFS"
	}
	return server
}

// findS3Server returns the path of server's program from PATH, GOBIN or
// GOPATH/bin, or an error saying where it looked and what installs it.
func findS3Server(ctx context.Context, server string) (string, error) {
	switch server {
	case s3Versitygw:
		return toolpath.Find(ctx, "versitygw", nil)
	case s3SeaweedFS:
		bin, err := toolpath.Find(ctx, "weed", nil)
		if err != nil {
			// Only the bench mode builds it: the tests do not need it.
			return "", fmt.Errorf("SeaweedFS: %w; `./.ci/tools.sh bench` builds weed", err)
		}
		return bin, nil
	}
	return "", fmt.Errorf("unknown S3 server %q", server)
}

// startS3Server starts b.server with b's credentials on free loopback
// ports, its data under dir/s3 and its log under dir/<server>, as b.gw.
// stopS3Server stops it.
func startS3Server(ctx context.Context, bin, dir string, b *s3Backend) error {
	data := filepath.Join(dir, "s3")
	if err := os.MkdirAll(data, 0o700); err != nil {
		return err
	}
	if b.server == s3SeaweedFS {
		return startSeaweedFS(ctx, bin, dir, data, b)
	}
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	args := []string{"--access", b.access, "--secret", b.secret, "--region", s3Region, "--port", addr, "posix", data}
	b.gw, err = startProcess(ctx, s3Versitygw, bin, args, filepath.Join(dir, s3Versitygw), nil, "http://"+addr, anyAnswer)
	return err
}

// stopS3Server stops b.gw, if running, and removes what it leaves outside
// the work dir.
func (b *s3Backend) stopS3Server() {
	if b.gw != nil {
		b.gw.stop()
	}
	for _, f := range b.leftovers {
		// Only a socket: the name could be anything else's by now.
		if fi, err := os.Lstat(f); err == nil && fi.Mode()&os.ModeSocket != 0 {
			os.Remove(f)
		}
	}
}

// startSeaweedFS runs SeaweedFS as one `weed server` process: master,
// volume server, filer and S3 gateway, with data in data. Its S3 gateway
// answers a few seconds after start; createBucket waits for its filer.
func startSeaweedFS(ctx context.Context, bin, dir, data string, b *s3Backend) error {
	cfg := filepath.Join(data, "s3.json")
	if err := writeSeaweedIdentity(cfg, b.access, b.secret); err != nil {
		return err
	}
	p, err := freePorts(8)
	if err != nil {
		return err
	}
	// Its services also listen on unix sockets in /tmp, named by their
	// ports, which it removes when it shuts down cleanly. It does not: its
	// filer, stopped after its volume server, keeps trying to flush its
	// metadata log to a volume, so stop kills it after 10 s, and the
	// sockets stay. Two could be moved (-filer.localSocket,
	// -s3.localSocket), the gRPC ones not.
	for _, s := range []struct{ name, port string }{
		{"master-grpc", p[1]}, {"volume-grpc", p[3]}, {"filer", p[4]}, {"filer-grpc", p[5]}, {"s3", p[6]}, {"s3-grpc", p[7]},
	} {
		b.leftovers = append(b.leftovers, "/tmp/seaweedfs-"+s.name+"-"+s.port+".sock")
	}
	args := []string{
		"server", "-dir=" + data, "-ip=127.0.0.1",
		"-master.port=" + p[0], "-master.port.grpc=" + p[1],
		"-volume.port=" + p[2], "-volume.port.grpc=" + p[3],
		"-filer.port=" + p[4], "-filer.port.grpc=" + p[5],
		"-s3", "-s3.port=" + p[6], "-s3.port.grpc=" + p[7], "-s3.config=" + cfg,
		// Volumes of 1 GiB rather than 30, as many as the disk holds
		// rather than 8: a bucket's first write creates 7 at once, and a
		// run of many rounds writes more than 8 GiB.
		"-master.volumeSizeLimitMB=1024", "-volume.max=0",
		// Its Iceberg and Lance servers would listen on fixed ports (8181,
		// 9101), which another run, or anything else, may hold.
		"-s3.port.iceberg=0", "-s3.port.lance=0",
		// Its statistics would go to the network, and the run stays local.
		"-master.telemetry=false",
	}
	b.gw, err = startProcess(ctx, s3SeaweedFS, bin, args, filepath.Join(dir, s3SeaweedFS), nil, "http://127.0.0.1:"+p[6], anyAnswer)
	if err != nil {
		b.stopS3Server() // startProcess stopped it; its sockets may be left
	}
	return err
}

// writeSeaweedIdentity writes SeaweedFS's -s3.config: one identity, with
// the bucket's credentials, allowed everything chainctl does.
func writeSeaweedIdentity(path, access, secret string) error {
	type credential struct {
		AccessKey string `json:"accessKey"`
		SecretKey string `json:"secretKey"`
	}
	type identity struct {
		Name        string       `json:"name"`
		Credentials []credential `json:"credentials"`
		Actions     []string     `json:"actions"`
	}
	body, err := json.Marshal(struct {
		Identities []identity `json:"identities"`
	}{[]identity{{
		Name:        "bench",
		Credentials: []credential{{AccessKey: access, SecretKey: secret}},
		Actions:     []string{"Admin", "Read", "Write", "List", "Tagging"},
	}}})
	if err != nil {
		return err
	}
	// It holds the secret key.
	return os.WriteFile(path, body, 0o600)
}

// freePorts returns n distinct loopback ports that were free a moment ago.
// It holds every listener until it has all n: closed one at a time, the
// kernel could hand the same port out twice.
func freePorts(n int) ([]string, error) {
	var ports []string
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		ls = append(ls, l)
		_, port, err := net.SplitHostPort(l.Addr().String())
		if err != nil {
			return nil, err
		}
		ports = append(ports, port)
	}
	return ports, nil
}
