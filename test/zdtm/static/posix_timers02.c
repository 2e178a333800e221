/*
 * posix_timers02: a queued timer signal comes back as the timer's own,
 * in the right queue. Timer X signals thread T (SIGEV_THREAD_ID), timer Y
 * and the periodic timer Z the process; all have expired with their
 * signals blocked, so each has its signal queued at checkpoint. After
 * restore T takes X's signal, with X's id and value, from its own queue;
 * once Y is deleted its queued signal is gone, as the kernel drops the
 * signal of a deleted timer (a copy queued by hand would stay); Z's signal
 * carries Z's id and Z goes on firing. Sabotage queues a copy of Y's
 * signal by hand.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "nsutil.h"

#define SIG_X (SIGRTMIN + 2)
#define SIG_Y (SIGRTMIN + 3)
#define SIG_Z (SIGRTMIN + 4)

static pthread_barrier_t step;
static pid_t t_tid;
static timer_t x;
static siginfo_t t_got;
static int t_sig;

static void wait_pending(int sig)
{
	sigset_t p;

	do
		sigpending(&p);
	while (!sigismember(&p, sig));
}

static void *thread_t(void *arg)
{
	struct timespec zero = { 0, 0 };
	sigset_t s;

	(void)arg;
	t_tid = (pid_t)syscall(SYS_gettid);
	pthread_barrier_wait(&step); /* X is armed */
	wait_pending(SIG_X);
	pthread_barrier_wait(&step); /* C/R happens here */
	pthread_barrier_wait(&step);
	sigemptyset(&s);
	sigaddset(&s, SIG_X);
	t_sig = sigtimedwait(&s, &t_got, &zero);
	return NULL;
}

static timer_t make(clockid_t clk, int notify, int sig, int value, long interval_ns)
{
	struct sigevent ev = { .sigev_notify = notify, .sigev_signo = sig };
	struct itimerspec its = { { 0, interval_ns }, { 0, 1000 } };
	timer_t id;

	ev.sigev_value.sival_int = value;
	if (notify == SIGEV_THREAD_ID)
		ev._sigev_un._tid = t_tid;
	if (timer_create(clk, &ev, &id) || timer_settime(id, 0, &its, NULL))
		fail("make timer for signal %d", sig);
	return id;
}

int main(int argc, char **argv)
{
	struct timespec zero = { 0, 0 };
	siginfo_t si;
	sigset_t s;
	pthread_t t;
	timer_t y, z;

	test_init(argc, argv);
	sigemptyset(&s);
	sigaddset(&s, SIG_X);
	sigaddset(&s, SIG_Y);
	sigaddset(&s, SIG_Z);
	sigprocmask(SIG_BLOCK, &s, NULL);
	if (pthread_barrier_init(&step, NULL, 2) || pthread_create(&t, NULL, thread_t, NULL)) {
		fail("start thread T");
		return 1;
	}
	pthread_barrier_wait(&step); /* t_tid is known */
	x = make(CLOCK_MONOTONIC, SIGEV_THREAD_ID, SIG_X, 7, 0);
	y = make(CLOCK_REALTIME, SIGEV_SIGNAL, SIG_Y, 8, 0);
	z = make(CLOCK_BOOTTIME, SIGEV_SIGNAL, SIG_Z, 9, 2000000);
	wait_pending(SIG_Y);
	wait_pending(SIG_Z);
	pthread_barrier_wait(&step); /* X's signal is queued too */

	test_daemon();
	test_waitsig();

	if (test_sabotage()) {
		union sigval v = { .sival_int = 8 };
		sigqueue(getpid(), SIG_Y, v);
	}
	pthread_barrier_wait(&step);
	pthread_join(t, NULL);
	if (t_sig != SIG_X || t_got.si_code != SI_TIMER || t_got.si_timerid != (int)(long)x || t_got.si_value.sival_int != 7)
		fail("T: X's signal: %d, code %d, timer %d, value %d", t_sig, t_got.si_code, t_got.si_timerid,
		     t_got.si_value.sival_int);
	if (timer_delete(y))
		fail("timer Y is gone");
	sigemptyset(&s);
	sigaddset(&s, SIG_Y);
	if (sigtimedwait(&s, &si, &zero) >= 0)
		fail("Y was deleted, and still a signal came: code %d, value %d", si.si_code, si.si_value.sival_int);
	sigemptyset(&s);
	sigaddset(&s, SIG_Z);
	for (int i = 0; i < 2; i++)
		if (sigwaitinfo(&s, &si) != SIG_Z || si.si_code != SI_TIMER || si.si_timerid != (int)(long)z ||
		    si.si_value.sival_int != 9)
			fail("Z's signal #%d: code %d, timer %d, value %d", i, si.si_code, si.si_timerid,
			     si.si_value.sival_int);
	pass();
	return test_exit();
}
