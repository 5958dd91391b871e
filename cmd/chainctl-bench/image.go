package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
)

// blob is a small blob held in memory.
type blob struct {
	digest string
	data   []byte
}

// image is an OCI image: a config and layers, and the manifest naming them.
type image struct {
	blobs    []blob // config first
	manifest []byte
	digest   string // of manifest
}

type descriptor struct {
	MediaType string `json:"mediaType"`
	Digest    string `json:"digest"`
	Size      int64  `json:"size"`
}

// newImage builds a unique image from seed: layers random layers of
// layerSize bytes, a config listing them, and an OCI image manifest.
func newImage(seed uint64, layers int, layerSize int64) (image, error) {
	var im image
	var diffIDs []string
	var layerDescs []descriptor
	for i := range layers {
		data := patternBytes(seed<<8|uint64(i), layerSize)
		d := sha256Digest(data)
		im.blobs = append(im.blobs, blob{digest: d, data: data})
		diffIDs = append(diffIDs, d)
		layerDescs = append(layerDescs, descriptor{MediaType: mediaLayer, Digest: d, Size: layerSize})
	}
	cfg, err := json.Marshal(map[string]any{
		"architecture": "amd64",
		"os":           "linux",
		"config":       map[string]any{"Labels": map[string]string{"dev.chainctl.bench.seed": fmt.Sprint(seed)}},
		"rootfs":       map[string]any{"type": "layers", "diff_ids": diffIDs},
	})
	if err != nil {
		return image{}, fmt.Errorf("encode config: %w", err)
	}
	cfgDesc := descriptor{MediaType: mediaConfig, Digest: sha256Digest(cfg), Size: int64(len(cfg))}
	im.blobs = append([]blob{{digest: cfgDesc.Digest, data: cfg}}, im.blobs...)
	m, err := json.Marshal(struct {
		SchemaVersion int          `json:"schemaVersion"`
		MediaType     string       `json:"mediaType"`
		Config        descriptor   `json:"config"`
		Layers        []descriptor `json:"layers"`
	}{2, mediaManifest, cfgDesc, layerDescs})
	if err != nil {
		return image{}, fmt.Errorf("encode manifest: %w", err)
	}
	im.manifest, im.digest = m, sha256Digest(m)
	return im, nil
}

// push uploads the image's blobs (POST then PUT each) and its manifest
// under tag.
func (im image) push(ctx context.Context, c *client, repo, tag string) error {
	for _, b := range im.blobs {
		if err := c.pushBlob(ctx, repo, b.digest, int64(len(b.data)), bytes.NewReader(b.data)); err != nil {
			return err
		}
	}
	return c.putManifest(ctx, repo, tag, im.manifest)
}
