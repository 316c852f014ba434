package file

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
)

// replaceJSON replaces path with v as one JSON line, atomically and
// durably: a temporary file (0600) beside it, written and fsynced, renamed
// over path, then the directory fsynced. A failure leaves path as it was
// and no temporary file behind. It is for the small records beside the
// store (handover record, leader location); the store has its own
// two-phase save.
func replaceJSON(ctx context.Context, path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() { _ = os.Remove(tmp) }() // gone after the rename; a failure leaves nothing
	_, werr := f.Write(append(data, '\n'))
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = ctx.Err()
	}
	if werr == nil {
		werr = os.Rename(tmp, path)
	}
	if werr != nil {
		return werr
	}
	return syncDir(dir)
}
