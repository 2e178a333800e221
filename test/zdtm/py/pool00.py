#!/usr/bin/env python3
"""pool00: the issue's Python scenario (ns flavor: pid 1 of its own pid
namespace). A multiprocessing.Pool(4) is mid-computation when the runner
checkpoints: the first tasks are done, four workers sit on a gate (a
multiprocessing.Event: a semaphore in shared memory) each holding a task,
and more tasks wait in the pool's pipes. After SIGTERM the init opens the
gate and the whole computation must finish with the right answer.

The zdtm contract is written out here as loop.py does it, plus the ns
flavor of zdtmtst.h: with ZDTM_NEWNS=1 the launcher unshares the pid
namespace and forks the init, which mounts its own /proc in a mount
namespace of its own, and tells the launcher it is ready through a FIFO
beside the pidfile (Pool workers forked before would hold an inherited
pipe open).
"""

import ctypes
import hashlib
import multiprocessing
import os
import select
import signal
import sys
import time

CLONE_NEWNS = 0x00020000
CLONE_NEWPID = 0x20000000
MS_REC, MS_PRIVATE = 16384, 1 << 18
MS_NOSUID, MS_NODEV, MS_NOEXEC = 2, 4, 8
TASKS, FAST = 64, 24

libc = ctypes.CDLL(None, use_errno=True)
stop = False


def parse_args(argv):
    opts = {"dirname": "."}
    for a in argv[1:]:
        if not a.startswith("--") or "=" not in a:
            sys.exit("pool00.py: bad option %s" % a)
        k, v = a[2:].split("=", 1)
        opts[k] = v
    if "pidfile" not in opts or "outfile" not in opts:
        sys.exit("pool00.py: --pidfile and --outfile are required")
    return opts


def check(r, what):
    if r != 0:
        e = ctypes.get_errno()
        sys.exit("pool00.py: %s: %s" % (what, os.strerror(e)))


def publish(path, pid):
    with open(path + ".tmp", "w") as f:
        f.write("%d\n" % pid)
    os.rename(path + ".tmp", path)


def launch(opts):
    """Become the test: the init of a new pid namespace in the ns flavor,
    a daemon otherwise. Returns in it only, with a function that signals
    readiness."""
    os.closerange(3, 65536)
    newns = os.environ.get("ZDTM_NEWNS") == "1"
    pidfile = os.path.abspath(opts["pidfile"])
    fifo = pidfile + ".ready"
    if os.path.exists(fifo):
        os.unlink(fifo)
    os.mkfifo(fifo, 0o600)
    rfd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    if newns:
        check(libc.unshare(CLONE_NEWPID), "unshare(CLONE_NEWPID)")
    pid = os.fork()
    if pid:
        got = False
        pidfd = os.pidfd_open(pid)
        while True:
            r, _, _ = select.select([rfd, pidfd], [], [])
            if rfd in r:
                try:
                    b = os.read(rfd, 1)
                except BlockingIOError:
                    continue
                if b == b"R":
                    got = True
                    continue
                if b == b"" and got:
                    break
                sys.exit("pool00.py: the test closed its ready FIFO without being ready")
            if pidfd in r:
                _, status = os.waitpid(pid, 0)
                sys.exit("pool00.py: test died before it was ready (status %#x)" % status)
        os.unlink(fifo)
        publish(pidfile, pid)
        os._exit(0)
    os.close(rfd)
    if newns:
        if os.getpid() != 1:
            sys.exit("pool00.py: the init is pid %d, not 1" % os.getpid())
        check(libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
        check(libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "make / private")
        check(libc.mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None), "mount /proc")
    os.setsid()
    null = os.open("/dev/null", os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    out = os.open(opts["outfile"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.close(out)
    sys.stdout = os.fdopen(1, "w", buffering=1)
    sys.stderr = os.fdopen(2, "w", buffering=1)

    def ready():
        fd = os.open(fifo, os.O_WRONLY)
        os.write(fd, b"R")
        os.close(fd)

    return ready


def work(n):
    h = hashlib.sha256(b"%d" % n)
    for _ in range(2000):
        h = hashlib.sha256(h.digest())
    return int.from_bytes(h.digest()[:8], "little")


def task(n):
    if n >= FAST:
        gate.wait()
    return n, work(n)


def init_worker(ev):
    global gate
    gate = ev


def on_term(signum, frame):
    global stop
    stop = True


def main():
    opts = parse_args(sys.argv)
    signal.signal(signal.SIGTERM, on_term)
    ready = launch(opts)
    sabotage = os.environ.get("ZDTM_SABOTAGE") == "1"

    ctx = multiprocessing.get_context("fork")
    ev = ctx.Event()
    pool = ctx.Pool(4, initializer=init_worker, initargs=(ev,))
    results = {}
    it = pool.imap_unordered(task, range(TASKS))
    while len(results) < FAST:
        n, v = next(it)
        results[n] = v
    ready()
    while not stop:
        time.sleep(0.01)

    ev.set()
    for n, v in it:
        results[n] = v
    pool.close()
    pool.join()
    if sabotage:
        results[TASKS // 2] += 1
    failed = False
    if sorted(results) != list(range(TASKS)):
        print("FAIL: results for %d tasks, want %d" % (len(results), TASKS))
        failed = True
    want = sum(work(n) for n in range(TASKS))
    if sum(results.values()) != want:
        print("FAIL: the sum is %#x, want %#x" % (sum(results.values()), want))
        failed = True
    print("%d tasks through Pool(4)" % len(results))
    if failed:
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
