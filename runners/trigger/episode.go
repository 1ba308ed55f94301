package trigger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/slipway-ml/slipway/runners/local"
)

// State is what Episodes remembers between observations: whether the
// last observation drifted, since when, and when a retraining was last
// fired. It is kept as JSON in Episodes.Path.
type State struct {
	// Drifted is the last observation's verdict.
	Drifted bool `json:"drifted"`
	// Since is when the current drift episode began (zero when not
	// drifted).
	Since time.Time `json:"since,omitzero"`
	// Fired reports that the current episode's retraining was fired.
	Fired bool `json:"fired"`
	// LastFired is when a retraining was last fired, in any episode.
	LastFired time.Time `json:"lastFired,omitzero"`
	// Episodes counts the drift episodes seen.
	Episodes int `json:"episodes"`
}

// Outcome is what one observation did.
type Outcome struct {
	// Fired reports that the retraining was fired now.
	Fired bool
	// Reason says why it was or was not fired.
	Reason string
	// State is the state after the observation.
	State State
}

// Episodes debounces retraining: drift fires the retraining once per
// drift episode (from the first drifted observation to the next clean
// one), however many observations drift in between, and never twice
// within Cooldown. A failed firing is tried again at the next drifted
// observation of the same episode. With a Path the state survives
// restarts and is shared by processes (a file lock orders them); without
// one it is kept in memory.
type Episodes struct {
	// Path is the state file; "" keeps the state in memory.
	Path string
	// Cooldown is the shortest time between two firings.
	Cooldown time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time

	mu    sync.Mutex
	state State
}

// Observe records one drift verdict and calls fire when it starts an
// episode (or continues one whose firing failed) outside the cooldown.
// An error from fire is returned, and the episode stays unfired.
func (e *Episodes) Observe(ctx context.Context, drifted bool, fire func(context.Context) error) (Outcome, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.Path != "" {
		unlock, err := local.LockFile(ctx, e.Path+".lock")
		if err != nil {
			return Outcome{}, fmt.Errorf("drift episode: %w", err)
		}
		defer unlock()
		if e.state, err = readState(e.Path); err != nil {
			return Outcome{}, err
		}
	}
	now := time.Now
	if e.Now != nil {
		now = e.Now
	}
	t := now().UTC()
	s := e.state
	var out Outcome
	switch {
	case !drifted:
		if s.Drifted {
			out.Reason = "drift episode ended"
		} else {
			out.Reason = "no drift"
		}
		s.Drifted, s.Since, s.Fired = false, time.Time{}, false
	case s.Drifted && s.Fired:
		out.Reason = fmt.Sprintf("drift episode since %s already triggered retraining", s.Since.Format(time.RFC3339))
	default:
		if !s.Drifted {
			s.Drifted, s.Since, s.Fired = true, t, false
			s.Episodes++
		}
		if !s.LastFired.IsZero() && t.Sub(s.LastFired) < e.Cooldown {
			out.Reason = fmt.Sprintf("drift, but retraining was triggered at %s; cooldown until %s",
				s.LastFired.Format(time.RFC3339), s.LastFired.Add(e.Cooldown).Format(time.RFC3339))
			break
		}
		if err := fire(ctx); err != nil {
			e.state = s
			if werr := e.save(); werr != nil {
				return Outcome{}, errors.Join(err, werr)
			}
			return Outcome{Reason: "drift; triggering retraining failed", State: s}, err
		}
		s.Fired, s.LastFired = true, t
		out.Fired = true
		out.Reason = "new drift episode: retraining triggered"
	}
	e.state = s
	out.State = s
	return out, e.save()
}

// save writes the state file, when there is one, through a temporary
// file and a rename.
func (e *Episodes) save() error {
	if e.Path == "" {
		return nil
	}
	b, err := json.MarshalIndent(e.state, "", "  ")
	if err != nil {
		return err
	}
	tmp := e.Path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("drift episode: %w", err)
	}
	if err := os.Rename(tmp, e.Path); err != nil {
		return fmt.Errorf("drift episode: %w", err)
	}
	return nil
}

// readState reads a state file; a missing one is the zero state.
func readState(path string) (State, error) {
	var s State
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, os.MkdirAll(filepath.Dir(path), 0o755)
	}
	if err != nil {
		return s, fmt.Errorf("drift episode: %w", err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("drift episode: %s: %w (delete it to start afresh)", path, err)
	}
	return s, nil
}
