//go:build unix

package file

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/infrakit-manager/manager/sources"
)

const (
	// handoverFileName is the handover record in the store directory. The
	// original manager reads global.config alone and never sees it.
	handoverFileName = "handover.json"
	// handoverLockName serialises the record's read-modify-writes.
	handoverLockName = ".handover.lock"
	// handoverKeep is how many terms the record keeps.
	handoverKeep = 16
	// handoverMaxBytes bounds a read of the record.
	handoverMaxBytes = 64 << 10
)

// Handover is os mode's handover record: <store-dir>/handover.json,
// changed under a flock of <store-dir>/.handover.lock and replaced
// atomically (temp file, fsync, rename, fsync of the directory).
type Handover struct {
	dir string
}

var _ sources.Handover = (*Handover)(nil)

// NewHandover returns the handover record of the store directory dir.
// It touches nothing on disk.
func NewHandover(dir string) (*Handover, error) {
	if strings.TrimSpace(dir) == "" {
		return nil, errors.New("handover record: the store directory is empty")
	}
	return &Handover{dir: dir}, nil
}

// Path is the record's path.
func (h *Handover) Path() string { return filepath.Join(h.dir, handoverFileName) }

// Load reads the record; a missing file is an empty record.
func (h *Handover) Load(ctx context.Context) (sources.HandoverRecord, error) {
	if err := ctx.Err(); err != nil {
		return sources.HandoverRecord{}, err
	}
	data, err := readRegular(h.Path(), handoverMaxBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return sources.HandoverRecord{}, nil
	}
	if err != nil {
		return sources.HandoverRecord{}, fmt.Errorf("read handover record: %w", err)
	}
	var rec sources.HandoverRecord
	if err := json.Unmarshal(data, &rec); err != nil {
		return sources.HandoverRecord{}, fmt.Errorf("handover record %s: %w: %w", h.Path(), sources.ErrCorrupt, err)
	}
	return rec, nil
}

// Claim records a new term; see Handover.
func (h *Handover) Claim(ctx context.Context, holder, instance string) (sources.HandoverRecord, uint64, error) {
	unlock, err := h.lock(ctx)
	if err != nil {
		return sources.HandoverRecord{}, 0, err
	}
	defer unlock()
	rec, loadErr := h.Load(ctx)
	if loadErr != nil && !errors.Is(loadErr, sources.ErrCorrupt) {
		return sources.HandoverRecord{}, 0, loadErr
	}
	if loadErr != nil {
		rec = sources.HandoverRecord{} // replaced: the history is lost
	}
	n := uint64(1)
	if last, ok := rec.Newest(); ok {
		n = last.Term + 1
	}
	rec.Terms = append(rec.Terms, sources.HandoverTerm{Term: n, Holder: holder, Instance: instance})
	if len(rec.Terms) > handoverKeep {
		rec.Terms = append([]sources.HandoverTerm(nil), rec.Terms[len(rec.Terms)-handoverKeep:]...)
	}
	if err := h.write(ctx, rec); err != nil {
		return sources.HandoverRecord{}, 0, err
	}
	return rec, n, loadErr
}

// Release marks a term released; see Handover.
func (h *Handover) Release(ctx context.Context, n uint64, instance string, clear bool) error {
	unlock, err := h.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	rec, err := h.Load(ctx)
	if err != nil {
		return err
	}
	for i, t := range rec.Terms {
		if t.Term == n && t.Instance == instance {
			if t.Released && t.Clear == clear {
				return nil
			}
			rec.Terms[i].Released, rec.Terms[i].Clear = true, clear || t.Clear
			return h.write(ctx, rec)
		}
	}
	return fmt.Errorf("release term %d: %w", n, sources.ErrTermUnknown)
}

// lock takes the record's lock. It never creates the store directory: a
// directory that vanished is the store's fault to report, and a claim
// there fails (the new leader then waits for the lease).
func (h *Handover) lock(ctx context.Context) (func(), error) {
	fi, err := os.Stat(h.dir)
	if err != nil {
		return nil, fmt.Errorf("handover record: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("handover record: %s is not a directory", h.dir)
	}
	return lockFile(ctx, filepath.Join(h.dir, handoverLockName))
}

// write replaces the record atomically and durably.
func (h *Handover) write(ctx context.Context, rec sources.HandoverRecord) error {
	if err := replaceJSON(ctx, h.Path(), rec); err != nil {
		return fmt.Errorf("write handover record: %w", err)
	}
	return nil
}
