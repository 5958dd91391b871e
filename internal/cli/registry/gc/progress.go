package gc

import (
	"fmt"
	"strings"
	"time"

	"github.com/chainctl/chainctl/internal/cli/cmdutil"
	"github.com/chainctl/chainctl/internal/gc"
	"github.com/chainctl/chainctl/internal/iostreams"
)

// redrawEvery bounds how often the terminal line is redrawn.
const redrawEvery = 100 * time.Millisecond

// barWidth is the width of the progress bar in cells.
const barWidth = 24

// steps is the number of gc's phases; the bar shows how far along them a
// run is.
const steps = 3

// stepOf numbers gc's phases in the order they run, from 1.
func stepOf(ph gc.Phase) int {
	switch ph {
	case gc.PhaseManifests:
		return 1
	case gc.PhaseBlobLinks:
		return 2
	}
	return 3
}

// progress shows gc.Progress on stderr: a bar redrawn in place on a
// terminal, one plain line per finished step otherwise, nothing with -o json
// unless stderr is a terminal.
type progress struct {
	io    *iostreams.IOStreams
	tty   bool
	quiet bool
	// dryRun says "would remove": nothing is.
	dryRun bool
	last   gc.Progress
	drawn  time.Time
}

func newProgress(ios *iostreams.IOStreams, jsonOutput, dryRun bool) *progress {
	tty := ios.IsStderrTTY()
	return &progress{io: ios, tty: tty, quiet: jsonOutput && !tty, dryRun: dryRun}
}

// update is the gc.WithProgress callback.
func (p *progress) update(pr gc.Progress) {
	if p.quiet {
		return
	}
	if p.last.Phase != "" && (pr.Phase != p.last.Phase || pr.Pass != p.last.Pass) {
		p.finishStep()
	}
	p.last = pr
	if p.tty && time.Since(p.drawn) >= redrawEvery {
		p.draw()
	}
}

// done ends the display: the last step's line, and a clean terminal line.
func (p *progress) done() {
	if p.quiet || p.last.Phase == "" {
		return
	}
	p.finishStep()
}

func (p *progress) finishStep() {
	if p.tty {
		p.draw()
		fmt.Fprintln(p.io.ErrOut)
		return
	}
	fmt.Fprintln(p.io.ErrOut, stepLine(p.last, p.dryRun))
}

func (p *progress) draw() {
	p.drawn = time.Now()
	st := p.io.ErrStyles()
	step := stepOf(p.last.Phase)
	filled := barWidth * step / steps
	bar := st.Success(strings.Repeat("━", filled)) + st.Faint(strings.Repeat("─", barWidth-filled))
	fmt.Fprintf(p.io.ErrOut, "\r\033[K%s %d/%d %s", bar, step, steps, stepLine(p.last, p.dryRun))
}

// stepLine describes a step's progress in plain words; in a dry run what
// was found "would" be removed.
func stepLine(pr gc.Progress, dryRun bool) string {
	name := string(pr.Phase)
	if pr.Phase == gc.PhaseManifests {
		name = fmt.Sprintf("%s (pass %d)", name, pr.Pass)
	}
	verb := "removed"
	if dryRun {
		verb = "would remove"
	}
	s := fmt.Sprintf("%s: examined %d, %s %d", name, pr.Examined, verb, pr.Removed)
	if pr.Phase != gc.PhaseBlobLinks {
		s += ", " + cmdutil.FormatBytes(pr.Bytes)
	}
	return s
}
