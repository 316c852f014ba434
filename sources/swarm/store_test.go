package swarm

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/infrakit-manager/manager/plugin"
	"github.com/infrakit-manager/manager/sources"
	"github.com/infrakit-manager/manager/sources/sourcestest"
	"github.com/infrakit-manager/manager/sources/swarm/swarmtest"
)

// storeTimeout is generous: the lab shares two CPUs with the race detector.
const storeTimeout = 5 * time.Second

// newLabStore returns a Store on node i of the shared lab, with a label of
// its own (removed at cleanup).
// newLabStore makes a store on lab node i; opts' zero fields take the
// defaults, and a zero Label a label of the test's own.
func newLabStore(t *testing.T, i int, opts StoreOptions) *Store {
	t.Helper()
	lab := sharedLab(t)
	def := DefaultStoreOptions()
	if opts.Label == "" {
		opts.Label = testLabel(t, rawAPI(t, lab.Host(i)))
	}
	if opts.MaxLabelBytes == 0 {
		opts.MaxLabelBytes = def.MaxLabelBytes
	}
	if opts.MaxRetries == 0 {
		opts.MaxRetries = def.MaxRetries
	}
	s, err := NewStore(newClient(t, lab.Host(i), storeTimeout), opts)
	require.NoError(t, err)
	return s
}

func TestStoreContract(t *testing.T) {
	// alternate nodes: followers forward to the leader, the leader commits
	node := 0
	newStore := func(t *testing.T) sources.Store {
		node = node%labNodes + 1
		return newLabStore(t, node, StoreOptions{})
	}
	sourcestest.RunStoreContract(t, newStore)
	sourcestest.RunStagerContract(t, newStore)
	sourcestest.RunForeignWriteContract(t, func(t *testing.T) (sources.Store, sourcestest.ForeignWriter) {
		s := newStore(t).(*Store)
		api := rawAPI(t, sharedLab(t).Host(node%labNodes+1)) // another node than the store's
		return s, func(t *testing.T, cfg sources.Config) {
			v, err := EncodeLabel(cfg)
			require.NoError(t, err)
			setRawLabel(t, api, s.opts.Label, v, false)
		}
	})
}

func TestStoreReadsAndWritesTheOriginalsFormat(t *testing.T) {
	s := newLabStore(t, 2, StoreOptions{})
	api := rawAPI(t, sharedLab(t).Host(1))
	ctx := swarmtest.Context(t)

	// theirs -> ours
	captured := readTestdata(t, "original-label.txt")
	setRawLabel(t, api, s.opts.Label, captured, false)
	cfg, ver, err := s.Load(ctx)
	require.NoError(t, err)
	require.Equal(t, versionOf(captured), ver)
	sourcestest.RequireEqualConfig(t, originalConfig(), cfg)

	// ours -> theirs: what we write is the original's encoding
	cfg.Groups["pets"] = sourcestest.SampleEntry("pets")
	_, err = s.Save(ctx, cfg, ver)
	require.NoError(t, err)
	want, err := EncodeLabel(cfg)
	require.NoError(t, err)
	require.Equal(t, want, rawLabels(t, api)[s.opts.Label])
}

func TestStoreConflictWhenSomeoneElseSaved(t *testing.T) {
	mine := newLabStore(t, 1, StoreOptions{})
	theirs := newLabStore(t, 3, StoreOptions{Label: mine.opts.Label})
	ctx := swarmtest.Context(t)

	v1, err := mine.Save(ctx, sourcestest.SampleConfig("a"), "")
	require.NoError(t, err)
	_, loaded, err := theirs.Load(ctx)
	require.NoError(t, err)
	require.Equal(t, v1, loaded)
	v2, err := theirs.Save(ctx, sourcestest.SampleConfig("b"), loaded)
	require.NoError(t, err)

	_, err = mine.Save(ctx, sourcestest.SampleConfig("c"), v1)
	require.ErrorIs(t, err, sources.ErrConflict)
	cfg, ver, err := mine.Load(ctx)
	require.NoError(t, err)
	require.Equal(t, v2, ver)
	sourcestest.RequireEqualConfig(t, sourcestest.SampleConfig("b"), cfg)
}

func TestStoreRetriesWhenTheSpecChangesUnderneath(t *testing.T) {
	s := newLabStore(t, 2, StoreOptions{})
	api := rawAPI(t, sharedLab(t).Host(3))
	other := testLabel(t, api)
	ctx := swarmtest.Context(t)

	var attempts []int
	s.beforeUpdate = func(attempt int) {
		attempts = append(attempts, attempt)
		if attempt == 1 { // someone changes another part of the spec
			setRawLabel(t, api, other, "set-in-between", false)
		}
	}
	v, err := s.Save(ctx, sourcestest.SampleConfig("a"), "")
	require.NoError(t, err)
	require.Equal(t, []int{1, 2}, attempts, "the first update must have been refused and retried")

	labels := rawLabels(t, api)
	require.Equal(t, "set-in-between", labels[other])
	cfg, ver, err := s.Load(ctx)
	require.NoError(t, err)
	require.Equal(t, v, ver)
	sourcestest.RequireEqualConfig(t, sourcestest.SampleConfig("a"), cfg)
}

func TestStoreRetryRechecksTheVersion(t *testing.T) {
	s := newLabStore(t, 1, StoreOptions{})
	theirs := newLabStore(t, 2, StoreOptions{Label: s.opts.Label})
	ctx := swarmtest.Context(t)

	var theirVer sources.Version
	s.beforeUpdate = func(attempt int) {
		if attempt == 1 { // someone saves our label between inspect and update
			var err error
			theirVer, err = theirs.Save(ctx, sourcestest.SampleConfig("theirs"), "")
			require.NoError(t, err)
		}
	}
	_, err := s.Save(ctx, sourcestest.SampleConfig("mine"), "")
	require.ErrorIs(t, err, sources.ErrConflict)
	cfg, ver, err := theirs.Load(ctx)
	require.NoError(t, err)
	require.Equal(t, theirVer, ver)
	sourcestest.RequireEqualConfig(t, sourcestest.SampleConfig("theirs"), cfg)
}

func TestStoreGivesUpAfterMaxRetries(t *testing.T) {
	s := newLabStore(t, 1, StoreOptions{MaxRetries: 2})
	api := rawAPI(t, sharedLab(t).Host(2))
	other := testLabel(t, api)
	ctx := swarmtest.Context(t)
	v1, err := s.Save(ctx, sourcestest.SampleConfig("a"), "")
	require.NoError(t, err)

	calls := 0
	s.beforeUpdate = func(attempt int) {
		calls++
		setRawLabel(t, api, other, fmt.Sprint(attempt), false)
	}
	_, err = s.Save(ctx, sourcestest.SampleConfig("b"), v1)
	require.ErrorContains(t, err, "gave up after 3 attempts")
	require.ErrorContains(t, err, "update out of sequence")
	require.NotErrorIs(t, err, sources.ErrConflict)
	require.Equal(t, 3, calls)

	cfg, ver, err := s.Load(ctx)
	require.NoError(t, err)
	require.Equal(t, v1, ver)
	sourcestest.RequireEqualConfig(t, sourcestest.SampleConfig("a"), cfg)
}

func TestStoreNeverOverwritesACorruptLabel(t *testing.T) {
	s := newLabStore(t, 3, StoreOptions{})
	api := rawAPI(t, sharedLab(t).Host(1))
	ctx := swarmtest.Context(t)
	corrupt := zlibBase64(t, []byte(`{"Groups": {"a": `))
	setRawLabel(t, api, s.opts.Label, corrupt, false)

	_, _, err := s.Load(ctx)
	require.ErrorIs(t, err, sources.ErrCorrupt)
	require.ErrorContains(t, err, s.opts.Label)
	require.ErrorContains(t, err, "line 1, column")

	for _, expected := range []sources.Version{"", versionOf(corrupt)} {
		_, err = s.Save(ctx, sourcestest.SampleConfig("a"), expected)
		require.ErrorIs(t, err, sources.ErrCorrupt)
		require.ErrorContains(t, err, "refusing to overwrite")
		require.Equal(t, corrupt, rawLabels(t, api)[s.opts.Label])
	}
}

// bigConfig returns a config of incompressible properties, about n bytes of
// JSON.
func bigConfig(t *testing.T, n int) sources.Config {
	t.Helper()
	noise := make([]byte, n/2)
	_, err := rand.Read(noise)
	require.NoError(t, err)
	props, err := json.Marshal(map[string]string{"ID": "big", "Noise": hex.EncodeToString(noise)})
	require.NoError(t, err)
	return sources.Config{Groups: map[plugin.ID]sources.Entry{"big": {Plugin: "group-stateless", Properties: props}}}
}

func TestStoreRefusesOversizeConfigs(t *testing.T) {
	ctx := swarmtest.Context(t)
	cases := []struct {
		name  string
		limit int
		cfg   sources.Config
	}{
		{"small limit", 200, sourcestest.SampleConfig("a", "b", "c", "d", "e", "f")},
		{"default 1 MiB limit", 0, bigConfig(t, 1600<<10)}, // hex noise: the label is ~0.7x the JSON
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newLabStore(t, 1, StoreOptions{MaxLabelBytes: c.limit})
			v1, err := s.Save(ctx, sourcestest.SampleConfig("kept"), "")
			require.NoError(t, err)
			encoded, err := EncodeLabel(c.cfg)
			require.NoError(t, err)
			require.Greater(t, len(encoded), s.opts.MaxLabelBytes)

			_, err = s.Save(ctx, c.cfg, v1)
			require.ErrorIs(t, err, sources.ErrTooLarge)
			require.ErrorContains(t, err, fmt.Sprintf("is %d bytes, the limit is %d bytes", len(encoded), s.opts.MaxLabelBytes))
			cfg, ver, err := s.Load(ctx)
			require.NoError(t, err)
			require.Equal(t, v1, ver)
			sourcestest.RequireEqualConfig(t, sourcestest.SampleConfig("kept"), cfg)
		})
	}
}

func TestStoreSavesALargeConfigThroughAFollower(t *testing.T) {
	lab := sharedLab(t)
	follower := lab.Leader(t)%labNodes + 1
	s := newLabStore(t, follower, StoreOptions{})
	ctx := swarmtest.Context(t)
	cfg := bigConfig(t, 600<<10)
	v, err := s.Save(ctx, cfg, "")
	require.NoError(t, err)
	got, ver, err := s.Load(ctx)
	require.NoError(t, err)
	require.Equal(t, v, ver)
	sourcestest.RequireEqualConfig(t, cfg, got)
}

func TestStoreKeepsOtherLabelsAndTheSpec(t *testing.T) {
	s := newLabStore(t, 2, StoreOptions{})
	api := rawAPI(t, sharedLab(t).Host(2))
	other := testLabel(t, api)
	setRawLabel(t, api, other, "keep me", false)
	ctx := swarmtest.Context(t)
	before, err := api.SwarmInspect(ctx)
	require.NoError(t, err)

	_, err = s.Save(ctx, sourcestest.SampleConfig("a"), "")
	require.NoError(t, err)

	after, err := api.SwarmInspect(ctx)
	require.NoError(t, err)
	require.Equal(t, "keep me", after.Spec.Labels[other])
	require.Contains(t, after.Spec.Labels, s.opts.Label)
	delete(after.Spec.Labels, s.opts.Label)
	require.Equal(t, before.Spec, after.Spec, "Save changed more than its label")
}

func TestStoreUnreachableEngineNamesTheHost(t *testing.T) {
	host := "unix://" + t.TempDir() + "/no-engine.sock"
	s, err := NewStore(newClient(t, host, time.Second), DefaultStoreOptions())
	require.NoError(t, err)
	ctx := swarmtest.Context(t)
	_, _, err = s.Load(ctx)
	require.ErrorContains(t, err, host)
	_, err = s.Save(ctx, sourcestest.SampleConfig("a"), "")
	require.ErrorContains(t, err, host)
}

// with returns the default StoreOptions changed by change.
func with(change func(*StoreOptions)) StoreOptions {
	o := DefaultStoreOptions()
	change(&o)
	return o
}

func TestStoreOptions(t *testing.T) {
	c := newClient(t, "unix:///nowhere.sock", time.Second)
	cases := []struct {
		name string
		opts StoreOptions
		err  string
	}{
		{"defaults", DefaultStoreOptions(), ""},
		{"zero value", StoreOptions{}, "Label must not be empty\nMaxLabelBytes must be in 1..1572864, got 0"},
		{"blank label", with(func(o *StoreOptions) { o.Label = " infrakit" }), "Label \" infrakit\" has surrounding blanks"},
		{"negative size", with(func(o *StoreOptions) { o.MaxLabelBytes = -1 }), "MaxLabelBytes must be in 1..1572864, got -1"},
		{"above the raft cap", with(func(o *StoreOptions) { o.MaxLabelBytes = raftMaxBytes + 1 }), "MaxLabelBytes must be in 1..1572864, got 1572865"},
		{"negative retries", with(func(o *StoreOptions) { o.MaxRetries = -1 }), "MaxRetries must be >= 0, got -1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewStore(c, tc.opts)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, "infrakit", s.opts.Label)
			require.Equal(t, 1<<20, s.opts.MaxLabelBytes)
			require.Equal(t, 5, s.opts.MaxRetries)
		})
	}
	_, err := NewStore(nil, DefaultStoreOptions())
	require.Error(t, err)
}

// TestStoreLabelThatVanishedIsUnknown: a label this store read or wrote
// that is gone is unknown (ErrStoreGone), never empty; the label written
// back, or reset to no groups, reads again. A store that never saw the
// label reads its absence as empty.
func TestStoreLabelThatVanishedIsUnknown(t *testing.T) {
	s := newLabStore(t, 1, StoreOptions{})
	api := rawAPI(t, sharedLab(t).Host(2))
	ctx := swarmtest.Context(t)
	cfg, _, err := s.Load(ctx)
	require.NoError(t, err, "no label yet: empty")
	require.Empty(t, cfg.Groups)
	v, err := s.Save(ctx, sourcestest.SampleConfig("a"), "")
	require.NoError(t, err)
	value := rawLabels(t, api)[s.opts.Label]

	setRawLabel(t, api, s.opts.Label, "", true)
	_, _, err = s.Load(ctx)
	require.ErrorIs(t, err, sources.ErrStoreGone)
	require.ErrorContains(t, err, s.opts.Label)
	_, err = s.Save(ctx, sourcestest.SampleConfig("b"), v)
	require.Error(t, err, "a save on a vanished label")
	require.NotContains(t, rawLabels(t, api), s.opts.Label)

	fresh, err := NewStore(s.c, s.opts)
	require.NoError(t, err)
	cfg, _, err = fresh.Load(ctx)
	require.NoError(t, err, "a store that never saw the label")
	require.Empty(t, cfg.Groups)

	setRawLabel(t, api, s.opts.Label, value, false)
	cfg, got, err := s.Load(ctx)
	require.NoError(t, err, "back")
	require.Equal(t, v, got)
	require.Len(t, cfg.Groups, 1)
	empty, err := EncodeLabel(sources.Config{})
	require.NoError(t, err)
	setRawLabel(t, api, s.opts.Label, empty, false)
	cfg, _, err = s.Load(ctx)
	require.NoError(t, err, "reset to no groups")
	require.Empty(t, cfg.Groups)
}
