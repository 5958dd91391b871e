package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// startUpload opens an upload session (distribution-spec "POST then PUT",
// end-4a) and returns its location.
func (c *client) startUpload(ctx context.Context, repo string) (*http.Response, error) {
	req, err := c.newRequest(ctx, http.MethodPost, repo, c.url("/v2/"+repo+"/blobs/uploads/", nil), nil)
	if err != nil {
		return nil, err
	}
	return c.do(req, nil, http.StatusAccepted)
}

// pushBlob uploads size bytes from body as dgst in one PUT after a POST
// (distribution-spec "Pushing a blob monolithically", POST then PUT).
func (c *client) pushBlob(ctx context.Context, repo, dgst string, size int64, body io.Reader) error {
	resp, err := c.startUpload(ctx, repo)
	if err != nil {
		return fmt.Errorf("push blob %s: %w", dgst, err)
	}
	loc, err := c.location(resp, url.Values{"digest": {dgst}})
	if err != nil {
		return fmt.Errorf("push blob %s: %w", dgst, err)
	}
	req, err := c.newRequest(ctx, http.MethodPut, repo, loc, io.NopCloser(body))
	if err != nil {
		return err
	}
	req.ContentLength = size
	req.Header.Set("Content-Type", mediaOctet)
	if _, err := c.do(req, nil, http.StatusCreated); err != nil {
		return fmt.Errorf("push blob %s: %w", dgst, err)
	}
	return nil
}

// pushBlobChunked uploads size bytes from body as dgst in PATCHes of chunk
// bytes, each with a Content-Range, then closes the session with a PUT
// (distribution-spec "Pushing a blob in chunks", end-5 and end-6).
func (c *client) pushBlobChunked(ctx context.Context, repo, dgst string, size, chunk int64, body io.Reader) error {
	if chunk <= 0 {
		return fmt.Errorf("chunk size %d", chunk)
	}
	resp, err := c.startUpload(ctx, repo)
	if err != nil {
		return fmt.Errorf("push blob %s: %w", dgst, err)
	}
	for off := int64(0); off < size; off += chunk {
		n := min(chunk, size-off)
		loc, err := c.location(resp, nil)
		if err != nil {
			return fmt.Errorf("push blob %s: %w", dgst, err)
		}
		req, err := c.newRequest(ctx, http.MethodPatch, repo, loc, io.NopCloser(io.LimitReader(body, n)))
		if err != nil {
			return err
		}
		req.ContentLength = n
		req.Header.Set("Content-Type", mediaOctet)
		req.Header.Set("Content-Range", fmt.Sprintf("%d-%d", off, off+n-1))
		if resp, err = c.do(req, nil, http.StatusAccepted); err != nil {
			return fmt.Errorf("push blob %s: chunk at %d: %w", dgst, off, err)
		}
	}
	loc, err := c.location(resp, url.Values{"digest": {dgst}})
	if err != nil {
		return fmt.Errorf("push blob %s: %w", dgst, err)
	}
	req, err := c.newRequest(ctx, http.MethodPut, repo, loc, nil)
	if err != nil {
		return err
	}
	if _, err := c.do(req, nil, http.StatusCreated); err != nil {
		return fmt.Errorf("push blob %s: close upload: %w", dgst, err)
	}
	return nil
}
