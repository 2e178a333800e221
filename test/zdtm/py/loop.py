#!/usr/bin/env python3
"""loop: a Python C/R test program (zdtm contract, in Python).

State lives in interpreter variables: a running Fibonacci pair modulo a
prime, a list of squares that grows, a dict keyed by step and a generator
suspended mid-iteration. It prints its progress to the outfile. After
SIGTERM every piece must still agree with a recomputation from scratch.
"""

import os
import signal
import sys
import time

MOD = 1_000_000_007


def parse_args(argv):
    opts = {"dirname": "."}
    for a in argv[1:]:
        if not a.startswith("--") or "=" not in a:
            sys.exit("loop.py: bad option %s" % a)
        k, v = a[2:].split("=", 1)
        opts[k] = v
    if "pidfile" not in opts or "outfile" not in opts:
        sys.exit("loop.py: --pidfile and --outfile are required")
    return opts


def daemonize(opts):
    """Fork; the parent exits once the child wrote its ready byte, after
    publishing the child's pid. Returns the ready fd in the child."""
    os.closerange(3, 65536)  # whatever the launcher leaked is not ours
    r, w = os.pipe()
    pid = os.fork()
    if pid:
        os.close(w)
        if os.read(r, 1) != b"R":
            _, status = os.waitpid(pid, 0)
            sys.exit("loop.py: test died before it was ready (status %#x)" % status)
        # Wait for EOF too: the child closes its end right after the byte,
        # and the runner must not see that pipe among its fds.
        while os.read(r, 1):
            pass
        tmp = opts["pidfile"] + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % pid)
        os.rename(tmp, opts["pidfile"])
        os._exit(0)
    os.close(r)
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
    return w


stop = False


def on_term(signum, frame):
    global stop
    stop = True


def naturals():
    n = 0
    while True:
        n += 1
        yield n


def fib_mod(steps):
    a, b = 0, 1
    for _ in range(steps):
        a, b = b, (a + b) % MOD
    return a, b


def main():
    opts = parse_args(sys.argv)
    signal.signal(signal.SIGTERM, on_term)
    ready = daemonize(opts)
    sabotage = os.environ.get("ZDTM_SABOTAGE") == "1"

    a, b = 0, 1
    squares = []
    by_step = {}
    gen = naturals()
    step = 0
    os.write(ready, b"R")
    os.close(ready)
    while True:  # at least one step, even if SIGTERM came at once
        step += 1
        a, b = b, (a + b) % MOD
        squares.append(step * step)
        by_step[step] = (a * 31 + step) % MOD
        n = next(gen)
        if n != step:
            print("FAIL: generator yielded %d at step %d" % (n, step))
            return 1
        if step % 1000 == 0:
            print("step %d" % step)
            time.sleep(0.01)
        if stop:
            break
    if sabotage:
        squares[len(squares) // 2] += 1

    failed = False
    if (a, b) != fib_mod(step):
        print("FAIL: fibonacci pair %r after %d steps, want %r" % ((a, b), step, fib_mod(step)))
        failed = True
    if squares != [i * i for i in range(1, step + 1)]:
        print("FAIL: the list of squares is damaged")
        failed = True
    x, y = 0, 1
    for i in range(1, step + 1):
        x, y = y, (x + y) % MOD
        if by_step.get(i) != (x * 31 + i) % MOD:
            print("FAIL: by_step[%d] is %r" % (i, by_step.get(i)))
            failed = True
            break
    if next(gen) != step + 1:
        print("FAIL: the generator lost its place")
        failed = True
    print("%d steps" % step)
    if failed:
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
