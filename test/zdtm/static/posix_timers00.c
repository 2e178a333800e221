/*
 * posix_timers00: POSIX timers and interval timers of every task survive
 * C/R. The init and its child A each create timers on several clocks with
 * several notifications (a signal with a value, none, a signal to a given
 * thread), delete one so the ids have a hole, and arm them far ahead with
 * intervals; A's values differ from the init's. After restore every
 * timer id must still be the same timer (the deleted one still gone), with
 * its interval and no more time left than before; a fast timer keeps
 * queueing its signal with its value; ITIMER_REAL and ITIMER_VIRTUAL are
 * still armed. Sabotage deletes a timer.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "nsutil.h"

#define NT 5
#define GONE 2 /* the deleted one */
#define FAST 4 /* fires every 5 ms */

struct tmr {
	timer_t id;
	struct itimerspec set, was;
};

static long long ns(const struct timespec *t)
{
	return t->tv_sec * 1000000000LL + t->tv_nsec;
}

static int setup(struct tmr *t, int base)
{
	static const clockid_t clocks[NT] = { CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_BOOTTIME,
					      CLOCK_PROCESS_CPUTIME_ID, CLOCK_MONOTONIC };
	struct itimerval it = { { 777 + base, 0 }, { 3600 + base, 0 } };
	sigset_t rt;

	sigemptyset(&rt);
	sigaddset(&rt, SIGRTMIN);
	sigaddset(&rt, SIGRTMIN + 1);
	sigprocmask(SIG_BLOCK, &rt, NULL);
	for (int i = 0; i < NT; i++) {
		struct sigevent ev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGRTMIN };

		ev.sigev_value.sival_int = base * 100 + i;
		if (i == 1)
			ev.sigev_notify = SIGEV_NONE;
		if (i == 3) {
			ev.sigev_notify = SIGEV_THREAD_ID;
			ev.sigev_signo = SIGRTMIN + 1;
			ev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
		}
		if (timer_create(clocks[i], &ev, &t[i].id)) {
			fail("timer_create %d", i);
			return -1;
		}
		t[i].set = (struct itimerspec){ { 100 + base + i, 1000 * i }, { 3000 + base + i, 0 } };
		if (i == FAST)
			t[i].set = (struct itimerspec){ { 0, 5000000 }, { 0, 5000000 } };
		if (timer_settime(t[i].id, 0, &t[i].set, NULL)) {
			fail("timer_settime %d", i);
			return -1;
		}
	}
	if (timer_delete(t[GONE].id) || setitimer(ITIMER_REAL, &it, NULL) || setitimer(ITIMER_VIRTUAL, &it, NULL)) {
		fail("delete a timer, set itimers");
		return -1;
	}
	for (int i = 0; i < NT; i++)
		if (i != GONE && timer_gettime(t[i].id, &t[i].was)) {
			fail("timer_gettime %d", i);
			return -1;
		}
	return 0;
}

static void check(const char *who, struct tmr *t, int base)
{
	struct itimerspec now;
	struct itimerval it;
	siginfo_t si;

	if (test_sabotage() && base == 0)
		timer_delete(t[0].id);
	for (int i = 0; i < NT; i++) {
		if (i == GONE) {
			if (timer_gettime(t[i].id, &now) == 0)
				fail("%s: deleted timer %ld exists again", who, (long)t[i].id);
			continue;
		}
		if (timer_gettime(t[i].id, &now)) {
			fail("%s: timer %ld (#%d) is gone", who, (long)t[i].id, i);
			continue;
		}
		if (ns(&now.it_interval) != ns(&t[i].set.it_interval))
			fail("%s: timer #%d interval %lld ns, want %lld", who, i, ns(&now.it_interval),
			     ns(&t[i].set.it_interval));
		if (i != FAST && (ns(&now.it_value) <= 0 || ns(&now.it_value) > ns(&t[i].was.it_value)))
			fail("%s: timer #%d has %lld ns left, want 0 < left <= %lld", who, i, ns(&now.it_value),
			     ns(&t[i].was.it_value));
	}
	/* The fast timer's signal carries its value and timer id. */
	sigset_t rt;
	sigemptyset(&rt);
	sigaddset(&rt, SIGRTMIN);
	if (sigwaitinfo(&rt, &si) != SIGRTMIN || si.si_code != SI_TIMER || si.si_value.sival_int != base * 100 + FAST)
		fail("%s: the fast timer's signal: code %d value %d", who, si.si_code, si.si_value.sival_int);
	if (getitimer(ITIMER_REAL, &it) || it.it_interval.tv_sec != 777 + base || it.it_value.tv_sec > 3600 + base ||
	    (it.it_value.tv_sec == 0 && it.it_value.tv_usec == 0))
		fail("%s: ITIMER_REAL interval %ld, value %ld", who, it.it_interval.tv_sec, it.it_value.tv_sec);
	if (getitimer(ITIMER_VIRTUAL, &it) || it.it_interval.tv_sec != 777 + base)
		fail("%s: ITIMER_VIRTUAL interval %ld", who, it.it_interval.tv_sec);
}

static int child(void *arg)
{
	struct tmr t[NT];

	(void)arg;
	if (setup(t, 50))
		return 1;
	test_daemon();
	test_waitsig();
	check("A", t, 50);
	return 0;
}

int main(int argc, char **argv)
{
	struct tmr t[NT];

	test_init(argc, argv);
	if (setup(t, 0) || test_spawn(child, NULL) < 0)
		return 1;

	test_daemon();
	test_waitsig();

	check("init", t, 0);
	test_stop_children();
	pass();
	return test_exit();
}
