/*
 * runwait: run a tool and report what it cost.
 *
 *   runwait REPORT CMD [ARG...]
 *
 * Forks, execs CMD, waits for it and writes one JSON object to REPORT:
 * wall time from fork to reaped, user and system time, peak RSS and minor
 * page faults from wait4(2)'s rusage, and the wait status. Exits as CMD did (128+N if it was
 * killed by signal N).
 *
 * Why not let the bench run the tool itself: at execve the kernel folds the
 * replaced image's peak RSS into the new program's ru_maxrss (exec_mmap()
 * in fs/exec.c calls setmax_mm_hiwater_rss()). Go starts programs with a
 * vfork-style clone, so the replaced image is the bench's whole address
 * space and every tool would report at least the bench's own size. This
 * program is a few hundred KiB, which is then all a tool inherits.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t tv_ns(struct timeval tv)
{
	return (uint64_t)tv.tv_sec * 1000000000ULL + (uint64_t)tv.tv_usec * 1000ULL;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: runwait REPORT CMD [ARG...]\n");
		return 2;
	}
	FILE *report = fopen(argv[1], "w");
	if (!report) {
		fprintf(stderr, "runwait: %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	pid_t parent = getpid();
	uint64_t t0 = now_ns();
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "runwait: fork: %s\n", strerror(errno));
		return 2;
	}
	if (pid == 0) {
		/* The bench's hang guard kills this program; take the tool along. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		fclose(report);
		execvp(argv[2], argv + 2);
		fprintf(stderr, "runwait: %s: %s\n", argv[2], strerror(errno));
		_exit(127);
	}
	int status;
	struct rusage ru;
	while (wait4(pid, &status, 0, &ru) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "runwait: wait4: %s\n", strerror(errno));
			return 2;
		}
	}
	uint64_t wall = now_ns() - t0;
	fprintf(report,
		"{\"wall_ns\":%llu,\"utime_ns\":%llu,\"stime_ns\":%llu,\"maxrss_kib\":%ld,\"minflt\":%ld,\"status\":%d}\n",
		(unsigned long long)wall, (unsigned long long)tv_ns(ru.ru_utime),
		(unsigned long long)tv_ns(ru.ru_stime), ru.ru_maxrss, ru.ru_minflt, status);
	if (fclose(report) != 0)
		return 2;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
