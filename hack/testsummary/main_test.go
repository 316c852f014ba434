package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const stream = `{"Action":"start","Package":"m/e2e"}
{"Action":"run","Package":"m/e2e","Test":"TestSwarm"}
{"Action":"output","Package":"m/e2e","Test":"TestSwarm","Output":"=== RUN   TestSwarm\n"}
{"Action":"output","Package":"m/e2e","Test":"TestSwarm","Output":"    swarm_test.go:27: no Docker engine: dockerd not found\n"}
{"Action":"output","Package":"m/e2e","Test":"TestSwarm","Output":"--- SKIP: TestSwarm (0.00s)\n"}
{"Action":"skip","Package":"m/e2e","Test":"TestSwarm"}
{"Action":"run","Package":"m/e2e","Test":"TestFailover"}
{"Action":"output","Package":"m/e2e","Test":"TestFailover","Output":"    swarm_test.go:27: no Docker engine: dockerd not found\n"}
{"Action":"skip","Package":"m/e2e","Test":"TestFailover"}
{"Action":"run","Package":"m/e2e","Test":"TestOK"}
{"Action":"output","Package":"m/e2e","Test":"TestOK","Output":"    noisy log line\n"}
{"Action":"pass","Package":"m/e2e","Test":"TestOK"}
{"Action":"output","Package":"m/e2e","Output":"ok  \tm/e2e\t1.0s\n"}
{"Action":"pass","Package":"m/e2e"}
{"Action":"run","Package":"m/a","Test":"TestBad"}
{"Action":"output","Package":"m/a","Test":"TestBad","Output":"    a_test.go:9: boom\n"}
{"Action":"output","Package":"m/a","Test":"TestBad","Output":"--- FAIL: TestBad (0.00s)\n"}
{"Action":"fail","Package":"m/a","Test":"TestBad"}
{"Action":"run","Package":"m/a","Test":"TestQuiet"}
{"Action":"output","Package":"m/a","Test":"TestQuiet","Output":"--- SKIP: TestQuiet (0.00s)\n"}
{"Action":"skip","Package":"m/a","Test":"TestQuiet"}
{"Action":"output","Package":"m/a","Output":"FAIL\tm/a\t0.1s\n"}
{"Action":"fail","Package":"m/a"}
`

func TestSummarize(t *testing.T) {
	var out bytes.Buffer
	failed, err := summarize(strings.NewReader(stream), &out, false, "m/")
	require.NoError(t, err)
	require.True(t, failed)
	require.Equal(t, "ok  \tm/e2e\t1.0s\n"+
		"    a_test.go:9: boom\n--- FAIL: TestBad (0.00s)\n"+
		"FAIL\tm/a\t0.1s\n"+
		"skipped: 3 — a: TestQuiet (no reason given); e2e: TestSwarm, TestFailover (no Docker engine: dockerd not found)\n", out.String())
}

func TestSummarize_VerboseAndNone(t *testing.T) {
	in := `{"Action":"run","Package":"m/x","Test":"TestA"}
{"Action":"output","Package":"m/x","Test":"TestA","Output":"    acked=10 lost=0\n"}
{"Action":"pass","Package":"m/x","Test":"TestA"}
{"Action":"output","Package":"m/x","Output":"ok  \tm/x\t0.1s\n"}
{"Action":"pass","Package":"m/x"}
`
	var out bytes.Buffer
	failed, err := summarize(strings.NewReader(in), &out, true, "m/")
	require.NoError(t, err)
	require.False(t, failed)
	require.Equal(t, "    acked=10 lost=0\nok  \tm/x\t0.1s\nskipped: none\n", out.String())
}

func TestSummarize_BuildFailure(t *testing.T) {
	var out bytes.Buffer
	failed, err := summarize(strings.NewReader("# m/x\nx.go:1: syntax error\n"), &out, false, "m/")
	require.NoError(t, err)
	require.True(t, failed, "no events means nothing ran")
	require.Contains(t, out.String(), "x.go:1: syntax error\n")
}

func TestSkipLine_SubtestsOfSkippedParent(t *testing.T) {
	got := skipLine([]skip{{"p", "TestA/one", "r"}, {"p", "TestA/two", "other"}, {"p", "TestA", "r"}})
	require.Equal(t, "skipped: 3 — p: TestA/two (other); p: TestA (r)", got)
}

// With -v every line is printed as it comes, and a skip still gets its reason.
func TestSummarize_VerboseKeepsSkipReasons(t *testing.T) {
	var out bytes.Buffer
	failed, err := summarize(strings.NewReader(stream), &out, true, "m/")
	require.NoError(t, err)
	require.True(t, failed)
	require.Equal(t, 1, strings.Count(out.String(), "a_test.go:9: boom"), "a failure's output is printed once")
	require.True(t, strings.HasSuffix(out.String(),
		"skipped: 3 — a: TestQuiet (no reason given); e2e: TestSwarm, TestFailover (no Docker engine: dockerd not found)\n"), out.String())
}

// A package that go test's -timeout killed names the test that hung, with
// its last output before the panic, though go test reports no failure for
// the test itself.
func TestSummarize_NamesTheHungTest(t *testing.T) {
	in := `{"Action":"run","Package":"m/etcd","Test":"TestFine"}
{"Action":"pass","Package":"m/etcd","Test":"TestFine"}
{"Action":"run","Package":"m/etcd","Test":"TestWipedMemberRejoins"}
{"Action":"output","Package":"m/etcd","Test":"TestWipedMemberRejoins","Output":"=== RUN   TestWipedMemberRejoins\n"}
{"Action":"output","Package":"m/etcd","Test":"TestWipedMemberRejoins","Output":"    store_test.go:40: wiped member 2\n"}
{"Action":"output","Package":"m/etcd","Test":"TestWipedMemberRejoins","Output":"panic: test timed out after 10m0s\n"}
{"Action":"output","Package":"m/etcd","Test":"TestWipedMemberRejoins","Output":"\trunning tests:\n"}
{"Action":"output","Package":"m/etcd","Test":"TestWipedMemberRejoins","Output":"\t\tTestWipedMemberRejoins (9m58s)\n"}
{"Action":"output","Package":"m/etcd","Test":"TestWipedMemberRejoins","Output":"\n"}
{"Action":"output","Package":"m/etcd","Test":"TestWipedMemberRejoins","Output":"goroutine 7 [select]:\n"}
{"Action":"output","Package":"m/etcd","Output":"FAIL\tm/etcd\t600.1s\n"}
{"Action":"fail","Package":"m/etcd"}
`
	for _, verbose := range []bool{false, true} {
		var out bytes.Buffer
		failed, err := summarize(strings.NewReader(in), &out, verbose, "m/")
		require.NoError(t, err)
		require.True(t, failed)
		require.Contains(t, out.String(), "HUNG etcd TestWipedMemberRejoins: test timed out after 10m0s; its last output:\n"+
			"=== RUN   TestWipedMemberRejoins\n    store_test.go:40: wiped member 2\n")
		require.True(t, strings.HasSuffix(out.String(), "hung: 1 — etcd: TestWipedMemberRejoins (test timed out after 10m0s)\n"), out.String())
		require.NotContains(t, out.String(), "TestFine")
	}
}

// TestSummarize_ParentFailureReportedInAPassingSubtest: a parent's t.Error
// printed while a subtest ran is attributed to that subtest, which passes;
// the parent's failure still comes with the line.
func TestSummarize_ParentFailureReportedInAPassingSubtest(t *testing.T) {
	in := `{"Action":"run","Package":"m/e2e","Test":"TestEtcd"}
{"Action":"run","Package":"m/e2e","Test":"TestEtcd/a"}
{"Action":"output","Package":"m/e2e","Test":"TestEtcd/a","Output":"    etcd_test.go:9: lab member 2 exited\n"}
{"Action":"output","Package":"m/e2e","Test":"TestEtcd/a","Output":"        \tError:      \tmember exited\n"}
{"Action":"pass","Package":"m/e2e","Test":"TestEtcd/a"}
{"Action":"output","Package":"m/e2e","Test":"TestEtcd","Output":"--- FAIL: TestEtcd (1.00s)\n"}
{"Action":"fail","Package":"m/e2e","Test":"TestEtcd"}
{"Action":"run","Package":"m/e2e","Test":"TestOther"}
{"Action":"run","Package":"m/e2e","Test":"TestOther/b"}
{"Action":"output","Package":"m/e2e","Test":"TestOther/b","Output":"        \tError:      \tboom\n"}
{"Action":"output","Package":"m/e2e","Test":"TestOther/b","Output":"--- FAIL: TestOther/b (0.00s)\n"}
{"Action":"fail","Package":"m/e2e","Test":"TestOther/b"}
{"Action":"output","Package":"m/e2e","Test":"TestOther","Output":"--- FAIL: TestOther (0.00s)\n"}
{"Action":"fail","Package":"m/e2e","Test":"TestOther"}
{"Action":"output","Package":"m/e2e","Output":"FAIL\tm/e2e\t1.0s\n"}
{"Action":"fail","Package":"m/e2e"}
`
	var out bytes.Buffer
	failed, err := summarize(strings.NewReader(in), &out, false, "m/")
	require.NoError(t, err)
	require.True(t, failed)
	require.Equal(t, "--- FAIL: TestEtcd (1.00s)\n"+
		"    (TestEtcd failed with no failing subtest; failure lines its passing subtests printed:)\n"+
		"    (in TestEtcd/a) \tError:      \tmember exited\n"+
		"        \tError:      \tboom\n--- FAIL: TestOther/b (0.00s)\n"+
		"--- FAIL: TestOther (0.00s)\n"+
		"FAIL\tm/e2e\t1.0s\n"+
		"skipped: none\n", out.String())
}
