/*
 * nanosleep00: the main thread spends its time in nanosleep(), resuming an
 * interrupted sleep with the remaining time it was given back. A sleep must
 * never end early: every round must last at least its requested time by
 * CLOCK_MONOTONIC, however often it was interrupted, checkpointed or
 * restored, and the remaining time handed back must never exceed what was
 * asked.
 */
#include <time.h>

#include "zdtmtst.h"

#define ROUND_NS 300000000L

static long long interrupts;

static long long ns(const struct timespec *t)
{
	return t->tv_sec * 1000000000LL + t->tv_nsec;
}

/* sleep_round sleeps req_ns in total, resuming after each interruption with
 * what nanosleep left, and checks the round lasted want_ns. It returns 0 if
 * SIGTERM ended the round early (nothing to check then). */
static int sleep_round(long req_ns, long want_ns, int stop_on_term)
{
	struct timespec req = { 0, req_ns }, rem, start, end;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		long long asked = ns(&req);

		if (nanosleep(&req, &rem) == 0)
			break;
		if (errno != EINTR) {
			fail("nanosleep");
			return 0;
		}
		interrupts++;
		if (ns(&rem) > asked || rem.tv_nsec < 0 || rem.tv_sec < 0)
			fail("nanosleep left %lld ns of a %lld ns request", ns(&rem), asked);
		if (stop_on_term && !test_go())
			return 0;
		req = rem;
	}
	clock_gettime(CLOCK_MONOTONIC, &end);
	if (ns(&end) - ns(&start) < want_ns)
		fail("a round slept %lld ns, less than %ld", ns(&end) - ns(&start), want_ns);
	return 1;
}

int main(int argc, char **argv)
{
	long long rounds = 0;

	test_init(argc, argv);

	test_daemon();
	while (test_go())
		rounds += sleep_round(ROUND_NS, ROUND_NS, 1);
	/* One more round after SIGTERM proves sleeping still works at all. */
	sleep_round(test_sabotage() ? ROUND_NS / 6 : ROUND_NS / 3, ROUND_NS / 3, 0);
	test_msg("%lld rounds, %lld interruptions", rounds, interrupts);
	pass();
	return test_exit();
}
