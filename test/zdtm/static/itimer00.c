/*
 * itimer00: armed interval timers survive C/R. ITIMER_REAL, ITIMER_VIRTUAL
 * and ITIMER_PROF are armed far in the future with distinct intervals; after
 * restore each must still be armed with the same interval and no more time
 * left than before the checkpoint.
 */
#include <signal.h>
#include <sys/time.h>

#include "zdtmtst.h"

static const struct {
	int which;
	const char *name;
	struct itimerval set;
} timers[] = {
	{ ITIMER_REAL, "REAL", { { 777, 123000 }, { 3600, 0 } } },
	{ ITIMER_VIRTUAL, "VIRTUAL", { { 555, 0 }, { 2400, 500000 } } },
	{ ITIMER_PROF, "PROF", { { 333, 250000 }, { 1800, 0 } } },
};

static long long us(const struct timeval *t)
{
	return t->tv_sec * 1000000LL + t->tv_usec;
}

int main(int argc, char **argv)
{
	struct itimerval before[3], now;

	test_init(argc, argv);
	for (int i = 0; i < 3; i++)
		if (setitimer(timers[i].which, &timers[i].set, NULL) || getitimer(timers[i].which, &before[i])) {
			fail("arm ITIMER_%s", timers[i].name);
			return 1;
		}

	test_daemon();
	test_waitsig();

	if (test_sabotage()) {
		struct itimerval off = { { 0, 0 }, { 0, 0 } };
		setitimer(ITIMER_PROF, &off, NULL);
	}
	for (int i = 0; i < 3; i++) {
		if (getitimer(timers[i].which, &now)) {
			fail("getitimer ITIMER_%s", timers[i].name);
			continue;
		}
		if (us(&now.it_interval) != us(&before[i].it_interval))
			fail("ITIMER_%s interval %lld us, want %lld", timers[i].name, us(&now.it_interval),
			     us(&before[i].it_interval));
		if (us(&now.it_value) <= 0 || us(&now.it_value) > us(&before[i].it_value))
			fail("ITIMER_%s has %lld us left, want 0 < left <= %lld", timers[i].name, us(&now.it_value),
			     us(&before[i].it_value));
	}
	pass();
	return test_exit();
}
