package s3

import (
	"context"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// PartsInFlight is how many parts of one multipart upload are sent at
// once. A part is one request; sending several overlaps their round
// trips, which is what R2 (and any S3 across a network) rewards, while
// the next part is read from the client. Memory is a part's size for each.
const PartsInFlight = 4

// partSender sends the parts of multipart upload mpu on key, up to
// PartsInFlight at once, each from a buffer of the store's pool that it
// returns when the part is sent. The first failure cancels the parts in
// flight and is what wait returns.
type partSender struct {
	s        *Store
	ctx      context.Context
	cancel   context.CancelFunc
	key, mpu string
	slots    chan struct{}
	wg       sync.WaitGroup

	mu    sync.Mutex
	parts []types.CompletedPart
	err   error
}

func (s *Store) newPartSender(ctx context.Context, key, mpu string) *partSender {
	ctx, cancel := context.WithCancel(ctx)
	return &partSender{s: s, ctx: ctx, cancel: cancel, key: key, mpu: mpu, slots: make(chan struct{}, PartsInFlight)}
}

// buffer waits until a part may be sent and returns a buffer of size
// bytes for it, with the function that gives it back (send calls it). It
// fails once a part has failed or ctx has ended.
func (p *partSender) buffer(size int64) ([]byte, func(), error) {
	if err := p.slot(); err != nil {
		return nil, nil, err
	}
	buf, put := p.s.getBuf(size)
	return buf, func() { put(); <-p.slots }, nil
}

// adopt is buffer for a buffer the caller already has, given back with
// put: it waits for a slot, and returns what send takes to release both.
func (p *partSender) adopt(put func()) (func(), error) {
	if err := p.slot(); err != nil {
		put()
		return nil, err
	}
	return func() { put(); <-p.slots }, nil
}

// slot waits for a place among the parts in flight.
func (p *partSender) slot() error {
	select {
	case p.slots <- struct{}{}:
	case <-p.ctx.Done():
		return p.failure()
	}
	if err := p.failure(); err != nil {
		<-p.slots
		return err
	}
	return nil
}

// send starts sending b, from a buffer that buffer returned with release,
// as part number num.
func (p *partSender) send(num int32, b []byte, release func()) {
	p.wg.Go(func() {
		defer release()
		etag, err := p.s.uploadPart(p.ctx, p.key, p.mpu, num, b)
		p.mu.Lock()
		defer p.mu.Unlock()
		if err != nil {
			if p.err == nil {
				p.err = err
				p.cancel()
			}
			return
		}
		p.parts = append(p.parts, types.CompletedPart{ETag: aws.String(etag), PartNumber: aws.Int32(num)})
	})
}

// failure is the first part's error, or the context's, or nil.
func (p *partSender) failure() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return p.err
	}
	return p.ctx.Err()
}

// wait waits for every part sent and returns them in order, or the first
// failure.
func (p *partSender) wait() ([]types.CompletedPart, error) {
	p.wg.Wait()
	defer p.cancel()
	if err := p.failure(); err != nil {
		return nil, err
	}
	slices.SortFunc(p.parts, func(a, b types.CompletedPart) int { return int(aws.ToInt32(a.PartNumber) - aws.ToInt32(b.PartNumber)) })
	return p.parts, nil
}
