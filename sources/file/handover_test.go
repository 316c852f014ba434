package file

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/sources"
)

func TestHandoverRecordDone(t *testing.T) {
	term := func(n uint64, inst string, released, clear bool) sources.HandoverTerm {
		return sources.HandoverTerm{Term: n, Holder: "h-" + inst, Instance: inst, Released: released, Clear: clear}
	}
	cases := []struct {
		name string
		rec  sources.HandoverRecord
		n    uint64
		want bool
	}{
		{"first term ever", sources.HandoverRecord{Terms: []sources.HandoverTerm{term(1, "a", false, false)}}, 1, true},
		{"previous released and clear", sources.HandoverRecord{Terms: []sources.HandoverTerm{term(4, "a", true, true), term(5, "b", false, false)}}, 5, true},
		{"previous not released", sources.HandoverRecord{Terms: []sources.HandoverTerm{term(4, "a", false, false), term(5, "b", false, false)}}, 5, false},
		{"stale release of an earlier term is not the previous one's", sources.HandoverRecord{Terms: []sources.HandoverTerm{
			term(3, "a", true, true), term(4, "b", false, false), term(5, "c", false, false)}}, 5, false},
		{"released but not clear: the one before must be done", sources.HandoverRecord{Terms: []sources.HandoverTerm{
			term(3, "a", false, false), term(4, "b", true, false), term(5, "c", false, false)}}, 5, false},
		{"released chain down to a clear term", sources.HandoverRecord{Terms: []sources.HandoverTerm{
			term(3, "a", true, true), term(4, "b", true, false), term(5, "c", false, false)}}, 5, true},
		{"released chain down to term 1", sources.HandoverRecord{Terms: []sources.HandoverTerm{
			term(1, "a", true, false), term(2, "b", true, false), term(3, "c", false, false)}}, 3, true},
		{"released chain into lost history", sources.HandoverRecord{Terms: []sources.HandoverTerm{
			term(7, "a", true, false), term(8, "b", false, false)}}, 8, false},
		{"history lost before the term", sources.HandoverRecord{Terms: []sources.HandoverTerm{term(9, "a", false, false)}}, 9, false},
		{"term not in the record", sources.HandoverRecord{Terms: []sources.HandoverTerm{term(1, "a", true, true)}}, 2, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, c.want, c.rec.Done(c.n))
		})
	}
}

func TestFileHandoverClaimRelease(t *testing.T) {
	dir := t.TempDir()
	h, err := NewHandover(dir)
	require.NoError(t, err)
	ctx := t.Context()

	rec, err := h.Load(ctx)
	require.NoError(t, err)
	require.Empty(t, rec.Terms, "no record is an empty record")

	rec, n1, err := h.Claim(ctx, "group", "i1")
	require.NoError(t, err)
	require.Equal(t, uint64(1), n1)
	require.True(t, rec.Done(n1))

	rec, n2, err := h.Claim(ctx, "group2", "i2")
	require.NoError(t, err)
	require.Equal(t, uint64(2), n2, "terms are numbered by the record, one above the newest")
	require.False(t, rec.Done(n2), "term 1 has not released")

	require.ErrorIs(t, h.Release(ctx, n1, "other-instance", true), sources.ErrTermUnknown,
		"a release names the term and the instance that holds it")
	require.NoError(t, h.Release(ctx, n1, "i1", true))
	rec, err = h.Load(ctx)
	require.NoError(t, err)
	require.True(t, rec.Done(n2))

	// A term released long ago is never a release of a later one.
	_, n3, err := h.Claim(ctx, "group", "i3")
	require.NoError(t, err)
	rec, err = h.Load(ctx)
	require.NoError(t, err)
	require.False(t, rec.Done(n3), "term 2 has not released; term 1's release is stale")

	for range 2 * handoverKeep {
		_, _, err = h.Claim(ctx, "g", "ix")
		require.NoError(t, err)
	}
	rec, err = h.Load(ctx)
	require.NoError(t, err)
	require.Len(t, rec.Terms, handoverKeep, "the record is bounded")
	require.ErrorIs(t, h.Release(ctx, n1, "i1", true), sources.ErrTermUnknown)

	// The original manager's file is untouched.
	_, err = os.Stat(filepath.Join(dir, configFileName))
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestFileHandoverBadInput(t *testing.T) {
	ctx := t.Context()
	_, err := NewHandover(" ")
	require.Error(t, err)

	t.Run("corrupt record is replaced, history lost", func(t *testing.T) {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, handoverFileName), []byte("{not json"), 0o600))
		h, err := NewHandover(dir)
		require.NoError(t, err)
		_, err = h.Load(ctx)
		require.ErrorIs(t, err, sources.ErrCorrupt)
		rec, n, err := h.Claim(ctx, "group", "i1")
		require.ErrorIs(t, err, sources.ErrCorrupt, "the claim says the history was lost")
		require.Equal(t, uint64(1), n)
		require.Len(t, rec.Terms, 1)
		rec, err = h.Load(ctx)
		require.NoError(t, err)
		require.Len(t, rec.Terms, 1)
	})
	t.Run("missing store dir is not created", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "gone")
		h, err := NewHandover(dir)
		require.NoError(t, err)
		_, _, err = h.Claim(ctx, "group", "i1")
		require.Error(t, err)
		_, err = os.Stat(dir)
		require.ErrorIs(t, err, os.ErrNotExist)
	})
	t.Run("not a regular file", func(t *testing.T) {
		dir := t.TempDir()
		require.NoError(t, os.Mkdir(filepath.Join(dir, handoverFileName), 0o700))
		h, err := NewHandover(dir)
		require.NoError(t, err)
		_, err = h.Load(ctx)
		require.ErrorIs(t, err, sources.ErrNotRegular)
	})
}
