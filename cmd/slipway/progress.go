package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/slipway-ml/slipway/runners/local"
)

// progress shows a run as it goes: on a terminal, a live line per running
// step with a bar; otherwise one plain line per finished step.
type progress struct {
	mu      sync.Mutex
	w       io.Writer
	tty     bool
	quiet   bool
	running map[string]*live
	drawn   int
	stop    chan struct{}
	done    sync.WaitGroup
}

type live struct {
	id          string
	started     time.Time
	done, total int64
	unit        string
}

// isTerminal reports whether f is a terminal.
func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

func newProgress(w io.Writer, quiet bool) *progress {
	p := &progress{w: w, quiet: quiet, running: map[string]*live{}, stop: make(chan struct{})}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) && os.Getenv("TERM") != "dumb" {
		p.tty = true
		p.done.Add(1)
		go p.tick()
	}
	return p
}

func (p *progress) tick() {
	defer p.done.Done()
	t := time.NewTicker(150 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.mu.Lock()
			p.redraw()
			p.mu.Unlock()
		}
	}
}

// event receives the runner's events.
func (p *progress) event(e local.Event) {
	if p.quiet {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch e.Type {
	case "start":
		p.running[e.Step] = &live{id: e.Step, started: time.Now()}
	case "progress":
		if l := p.running[e.Step]; l != nil {
			l.done, l.total, l.unit = e.Done, e.Total, e.Unit
		}
	case "done":
		delete(p.running, e.Step)
		p.clear()
		fmt.Fprintln(p.w, doneLine(e.Result))
		p.redraw()
	}
}

func doneLine(r *local.StepResult) string {
	mark := map[local.Status]string{local.StatusRan: "✓", local.StatusCached: "=", local.StatusFailed: "✗"}[r.Status]
	s := fmt.Sprintf("%s %-28s %-7s %6.2fs", mark, r.ID, r.Status, r.Seconds)
	if r.Reason != "" {
		s += "  " + r.Reason
	}
	if r.Status == local.StatusFailed && r.Error != "" {
		s += "\n    " + r.Error
	}
	return s
}

// clear erases the live lines.
func (p *progress) clear() {
	if !p.tty || p.drawn == 0 {
		return
	}
	fmt.Fprintf(p.w, "\x1b[%dA\x1b[J", p.drawn)
	p.drawn = 0
}

// redraw draws the live lines of the running steps.
func (p *progress) redraw() {
	if !p.tty {
		return
	}
	p.clear()
	ids := make([]string, 0, len(p.running))
	for id := range p.running {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		l := p.running[id]
		fmt.Fprintf(p.w, "… %-28s %s %5.1fs\n", id, bar(l.done, l.total, l.unit), time.Since(l.started).Seconds())
		p.drawn++
	}
}

// bar draws progress: a bar when the total is known.
func bar(done, total int64, unit string) string {
	const width = 24
	if total <= 0 {
		if done == 0 {
			return strings.Repeat(" ", width+2)
		}
		return fmt.Sprintf("%d %s", done, unit)
	}
	n := int(float64(width) * float64(min(done, total)) / float64(total))
	amount := fmt.Sprintf("%d/%d %s", done, total, unit)
	if unit == "B" {
		amount = fmt.Sprintf("%.1f/%.1f MiB", float64(done)/(1<<20), float64(total)/(1<<20))
	}
	return "[" + strings.Repeat("█", n) + strings.Repeat("·", width-n) + "] " + amount
}

func (p *progress) close() {
	if p.tty {
		close(p.stop)
		p.done.Wait()
		p.mu.Lock()
		p.clear()
		p.mu.Unlock()
	}
}
