// Package integration holds ckpt's end-to-end tests: the zdtm-style C/R
// suite (TestZdtm*) that runs every program under test/zdtm through
// checkpoint and restore with bin/ckpt, and checks of the command line
// contract (TestCheckpoint*, TestRestore*).
//
// The tests run as root on the real kernel. TestMain makes the test binary
// a child subreaper, so daemonized test programs and restored tasks become
// its children; it reaps only pids it owns (wait4 on that pid), never
// wait4(-1), which would steal os/exec's children.
//
// Environment:
//
//	ZDTM_MODE    cr (default), nocr, norst, iters=N, sabotage: the mode TestZdtm runs in
//	ZDTM_NOAUTO  1 also runs tests whose .desc says noauto
//	CKPT_BIN     the ckpt binary (default: bin/ckpt, built if missing)
//	ZDTM_KEEP    1 keeps every work directory, not only those of failures
package integration
