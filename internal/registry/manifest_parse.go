package registry

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"strings"

	"github.com/opencontainers/go-digest"
)

// Manifest media types the registry stores and serves.
const (
	mediaTypeOCIManifest    = "application/vnd.oci.image.manifest.v1+json"
	mediaTypeOCIIndex       = "application/vnd.oci.image.index.v1+json"
	mediaTypeDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	mediaTypeDockerList     = "application/vnd.docker.distribution.manifest.list.v2+json"
)

// maxManifestSize is the largest manifest accepted (distribution-spec
// recommends at least 4 MiB and allows 413 above the limit).
const maxManifestSize = 4 << 20

// isIndexType reports whether mt is a manifest list / image index.
func isIndexType(mt string) bool { return mt == mediaTypeOCIIndex || mt == mediaTypeDockerList }

func knownManifestType(mt string) bool {
	switch mt {
	case mediaTypeOCIManifest, mediaTypeOCIIndex, mediaTypeDockerManifest, mediaTypeDockerList:
		return true
	}
	return false
}

type descriptor struct {
	MediaType    string            `json:"mediaType"`
	ArtifactType string            `json:"artifactType,omitempty"`
	Digest       string            `json:"digest"`
	Size         int64             `json:"size"`
	Annotations  map[string]string `json:"annotations,omitempty"`
}

// rawManifest is the union of the fields of image manifests and indexes
// that the registry needs.
type rawManifest struct {
	SchemaVersion *int              `json:"schemaVersion"`
	MediaType     string            `json:"mediaType"`
	ArtifactType  string            `json:"artifactType"`
	Config        *descriptor       `json:"config"`
	Layers        []descriptor      `json:"layers"`
	Manifests     []descriptor      `json:"manifests"`
	Subject       *descriptor       `json:"subject"`
	Annotations   map[string]string `json:"annotations"`
}

// parsedManifest is what the registry learns from a manifest's bytes.
type parsedManifest struct {
	MediaType    string
	ArtifactType string
	Subject      digest.Digest
	Annotations  map[string]string
	Blobs        []digest.Digest // config and layers
	Children     []digest.Digest // an index's manifests
	// BlobSizes and ChildSizes are the sizes the descriptors of Blobs and
	// Children declare, index for index.
	BlobSizes  []int64
	ChildSizes []int64
}

// parseManifest validates a manifest body against the Content-Type it was
// pushed with and extracts its references. contentType may be empty, in
// which case the body's mediaType field decides.
func parseManifest(contentType string, body []byte) (*parsedManifest, error) {
	var m rawManifest
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("manifest is not valid JSON: %w", err)
	}
	mt := m.MediaType
	if contentType != "" {
		ct, _, err := mime.ParseMediaType(contentType)
		if err != nil {
			return nil, fmt.Errorf("invalid Content-Type %q", contentType)
		}
		if m.MediaType != "" && m.MediaType != ct {
			return nil, fmt.Errorf("Content-Type %s does not match the manifest's mediaType %s", ct, m.MediaType)
		}
		mt = ct
	}
	if mt == "" {
		// OCI manifests may omit mediaType; tell image and index apart by shape.
		switch {
		case m.Config != nil:
			mt = mediaTypeOCIManifest
		case m.Manifests != nil:
			mt = mediaTypeOCIIndex
		default:
			return nil, errors.New("manifest has no mediaType and no Content-Type")
		}
	}
	if !knownManifestType(mt) {
		return nil, fmt.Errorf("unsupported manifest media type %s", mt)
	}
	if m.SchemaVersion == nil || *m.SchemaVersion != 2 {
		return nil, errors.New("schemaVersion must be 2")
	}
	p := &parsedManifest{MediaType: mt, ArtifactType: m.ArtifactType, Annotations: m.Annotations}
	if isIndexType(mt) {
		if m.Config != nil || len(m.Layers) > 0 {
			return nil, errors.New("an index has manifests, not config or layers")
		}
		for i, d := range m.Manifests {
			dg, err := descriptorDigest(d, fmt.Sprintf("manifests[%d]", i))
			if err != nil {
				return nil, err
			}
			p.Children = append(p.Children, dg)
			p.ChildSizes = append(p.ChildSizes, d.Size)
		}
	} else {
		if m.Config == nil {
			return nil, errors.New("image manifest has no config")
		}
		if len(m.Manifests) > 0 {
			return nil, errors.New("an image manifest has config and layers, not manifests")
		}
		dg, err := descriptorDigest(*m.Config, "config")
		if err != nil {
			return nil, err
		}
		p.Blobs = append(p.Blobs, dg)
		p.BlobSizes = append(p.BlobSizes, m.Config.Size)
		for i, d := range m.Layers {
			dg, err := descriptorDigest(d, fmt.Sprintf("layers[%d]", i))
			if err != nil {
				return nil, err
			}
			if !nonDistributable(d.MediaType) {
				p.Blobs = append(p.Blobs, dg)
				p.BlobSizes = append(p.BlobSizes, d.Size)
			}
		}
		if p.ArtifactType == "" {
			p.ArtifactType = m.Config.MediaType // distribution-spec: referrers fall back to config.mediaType
		}
	}
	if m.Subject != nil {
		dg, err := descriptorDigest(*m.Subject, "subject")
		if err != nil {
			return nil, err
		}
		p.Subject = dg
	}
	return p, nil
}

// nonDistributable reports whether a layer is one that registries are not
// expected to hold (image-spec "Non-distributable layers", Docker foreign
// layers), so a manifest may reference it without it having been pushed.
func nonDistributable(mt string) bool {
	return strings.HasPrefix(mt, "application/vnd.oci.image.layer.nondistributable.") ||
		mt == "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
}

func descriptorDigest(d descriptor, where string) (digest.Digest, error) {
	if d.Size < 0 {
		return "", fmt.Errorf("%s has a negative size", where)
	}
	dg, err := parseDigest(d.Digest)
	if err != nil {
		return "", fmt.Errorf("%s: %w", where, err)
	}
	return dg, nil
}
