package engine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/rs/zerolog"

	"github.com/vigil-sec/vigil/rules"
)

// ReloadOptions configures a Reloader.
type ReloadOptions struct {
	// Load compiles a fresh set; typically rules.Load with the engine's options.
	Load func() (*rules.Set, error)
	// Paths are the rule folders (watched recursively) and single rule files
	// to watch. With none, only SIGHUP triggers a reload.
	Paths []string
	// Debounce is how long the files must be quiet before a reload, so an
	// editor's save (write, rename, chmod) causes one reload. Default 250ms.
	Debounce time.Duration
	// NoSIGHUP disables reloading on SIGHUP.
	NoSIGHUP bool
	Logger   zerolog.Logger
}

// Reloader recompiles the signatures when their files change or the process
// gets SIGHUP and swaps the new set into the engine. A set that does not
// compile is reported with the place of every problem and the engine keeps
// running the previous one.
type Reloader struct {
	eng  *Engine
	opts ReloadOptions

	mu       sync.Mutex // serialises reloads
	ok, fail int
	lastErr  error
}

// NewReloader prepares a reloader for eng; Run starts watching.
func NewReloader(eng *Engine, opts ReloadOptions) *Reloader {
	if opts.Debounce <= 0 {
		opts.Debounce = 250 * time.Millisecond
	}
	return &Reloader{eng: eng, opts: opts}
}

// Reload compiles a new set now and swaps it in. On error the engine keeps
// its current set and the error (a *rules.LoadError for bad rules) is
// returned and logged.
func (r *Reloader) Reload() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	start := time.Now()
	set, err := r.opts.Load()
	if err != nil {
		r.fail++
		r.lastErr = err
		var le *rules.LoadError
		if errors.As(err, &le) {
			for _, p := range le.Problems {
				r.opts.Logger.Error().Str("place", p.String()).Msg("rule problem")
			}
		}
		r.opts.Logger.Error().Err(err).Msg("reload failed: keeping the previous signatures")
		return fmt.Errorf("reloading signatures: %w", err)
	}
	r.eng.Swap(set)
	r.ok++
	r.lastErr = nil
	r.opts.Logger.Info().Int("signatures", len(set.Signatures())).Dur("took", time.Since(start)).Msg("signatures reloaded")
	return nil
}

// Counts returns how many reloads succeeded and failed, and the last error
// (nil after a success).
func (r *Reloader) Counts() (ok, failed int, last error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ok, r.fail, r.lastErr
}

// Run watches the paths and SIGHUP until ctx is done.
func (r *Reloader) Run(ctx context.Context) error {
	var hup chan os.Signal
	if !r.opts.NoSIGHUP {
		hup = make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
	}

	var events chan fsnotify.Event
	var errs chan error
	if len(r.opts.Paths) > 0 {
		w, err := fsnotify.NewWatcher()
		if err != nil {
			return fmt.Errorf("watching rule folders: %w", err)
		}
		defer w.Close()
		// Single files are watched through their folder; such a folder,
		// unless also inside a watched tree, reports only those files.
		ws := &watchSet{files: map[string]bool{}, onlyFiles: map[string]bool{}}
		for _, p := range r.opts.Paths {
			if err := ws.add(w, p); err != nil {
				return err
			}
		}
		events, errs = make(chan fsnotify.Event), w.Errors
		go func() {
			for ev := range w.Events {
				// A new folder inside a watched tree is watched too.
				if ev.Has(fsnotify.Create) {
					if st, err := os.Stat(ev.Name); err == nil && st.IsDir() && !ws.onlyFiles[filepath.Dir(ev.Name)] {
						_ = addTree(w, ev.Name)
					}
				}
				if !ws.relevant(ev) {
					continue
				}
				select {
				case events <- ev:
				case <-ctx.Done():
					return
				}
			}
		}()
		r.opts.Logger.Info().Strs("paths", r.opts.Paths).Msg("watching rule files for changes")
	}

	var timer *time.Timer
	var fire <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			if timer != nil {
				timer.Stop()
			}
			return nil
		case <-hup:
			r.opts.Logger.Info().Msg("SIGHUP: reloading signatures")
			r.Reload()
		case ev := <-events:
			r.opts.Logger.Debug().Str("file", ev.Name).Str("op", ev.Op.String()).Msg("rule file changed")
			if timer == nil {
				timer = time.NewTimer(r.opts.Debounce)
			} else {
				timer.Reset(r.opts.Debounce)
			}
			fire = timer.C
		case <-fire:
			fire = nil
			r.Reload()
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			r.opts.Logger.Warn().Err(err).Msg("file watcher error")
		}
	}
}

// watchSet remembers what was asked to be watched.
type watchSet struct {
	files     map[string]bool // single rule files
	onlyFiles map[string]bool // folders watched only for the single files in them
	trees     []string
}

// add watches a folder tree, or a single file through its folder.
func (ws *watchSet) add(w *fsnotify.Watcher, path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("watching rules: %w", err)
	}
	path = filepath.Clean(path)
	if st.IsDir() {
		ws.trees = append(ws.trees, path)
		for d := range ws.onlyFiles {
			if within(d, path) {
				delete(ws.onlyFiles, d)
			}
		}
		return addTree(w, path)
	}
	// Editors replace files by renaming over them, which ends a watch on the
	// file itself: watch its folder.
	ws.files[path] = true
	dir := filepath.Dir(path)
	inTree := false
	for _, t := range ws.trees {
		inTree = inTree || within(dir, t)
	}
	if !inTree {
		ws.onlyFiles[dir] = true
	}
	if err := w.Add(dir); err != nil {
		return fmt.Errorf("watching %s: %w", dir, err)
	}
	return nil
}

// within tells whether path is root or below it.
func within(path, root string) bool {
	rel, err := filepath.Rel(root, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

// relevant tells whether a file event may change the compiled set: a .rego
// file (created, written, removed or renamed), or a folder removed or renamed.
func (ws *watchSet) relevant(ev fsnotify.Event) bool {
	if ev.Op == fsnotify.Chmod {
		return false
	}
	name := filepath.Clean(ev.Name)
	if ws.onlyFiles[filepath.Dir(name)] {
		return ws.files[name]
	}
	if strings.HasSuffix(name, ".rego") {
		return true
	}
	return ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename)
}

func addTree(w *fsnotify.Watcher, root string) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != root && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			if err := w.Add(p); err != nil {
				return fmt.Errorf("watching %s: %w", p, err)
			}
		}
		return nil
	})
}
