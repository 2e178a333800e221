# pool: multiprocessing.Pool(4) over 200 slow tasks; writes the sum when done.
# TestRestorePythonPool checkpoints it mid-computation.
import multiprocessing, sys, time, os
os.closerange(3, 65536)
def work(n):
    time.sleep(0.05)
    return sum(i*i for i in range(n))
if __name__ == "__main__":
    with multiprocessing.Pool(4) as p:
        r = sum(p.map(work, range(2000, 2200)))
    open(sys.argv[1], "w").write("%d\n" % r)
