package fsck

import (
	"fmt"
	"time"

	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/fsck"
	"github.com/chainctl/chainctl/internal/iostreams"
)

// redrawEvery bounds how often the terminal line is redrawn.
const redrawEvery = 100 * time.Millisecond

// progress shows how far a check is on stderr, redrawn in place, when
// stderr is a terminal; elsewhere (a timer's log) nothing.
type progress struct {
	io    *iostreams.IOStreams
	on    bool
	last  fsck.Report
	drawn time.Time
}

func newProgress(ios *iostreams.IOStreams) *progress {
	return &progress{io: ios, on: ios.IsStderrTTY()}
}

// update is the fsck.WithProgress callback.
func (p *progress) update(r fsck.Report) {
	p.last = r
	if p.on && time.Since(p.drawn) >= redrawEvery {
		p.draw()
	}
}

// done clears the line.
func (p *progress) done() {
	if p.on && !p.drawn.IsZero() {
		fmt.Fprint(p.io.ErrOut, "\r\033[K")
	}
}

func (p *progress) draw() {
	p.drawn = time.Now()
	st := p.io.ErrStyles()
	line := fmt.Sprintf("checked %d blobs, %s", p.last.Blobs, cmdutil.FormatBytes(p.last.Bytes))
	if n := len(p.last.Corrupt); n > 0 {
		line += ", " + st.Error(fmt.Sprintf("%d corrupt", n))
	}
	fmt.Fprintf(p.io.ErrOut, "\r\033[K%s", line)
}
