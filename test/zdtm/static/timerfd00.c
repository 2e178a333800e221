/*
 * timerfd00: timerfds keep their clock, armed time, interval, settime
 * flags, non-blocking mode and unread expirations across C/R:
 *  - an armed periodic CLOCK_MONOTONIC timer (1000 s, then every 500 s);
 *  - a CLOCK_REALTIME timer armed with TFD_TIMER_ABSTIME at now + 1000 s;
 *  - a one-shot timer that expired, with 5 expirations not read yet
 *    (set with TFD_IOC_SET_TICKS), and a dup of it sharing the description;
 *  - a disarmed CLOCK_BOOTTIME timer that still has an interval.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

#define TFD_IOC_SET_TICKS _IOW('T', 0, uint64_t)

/* fdinfo_field returns the value of "key:" in the fd's fdinfo, or -1. */
static long long fdinfo_field(int fd, const char *key, int base)
{
	char path[64], line[256];
	long long v = -1;
	size_t n = strlen(key);
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':')
			v = strtoll(line + n + 1, NULL, base);
	fclose(f);
	return v;
}

int main(int argc, char **argv)
{
	struct itimerspec its, got;
	struct timespec now;
	uint64_t ticks = 5, v;
	int mono, real, oneshot, dup1, boot;
	time_t deadline;

	test_init(argc, argv);
	mono = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	real = timerfd_create(CLOCK_REALTIME, 0);
	oneshot = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	boot = timerfd_create(CLOCK_BOOTTIME, 0);
	if (mono < 0 || real < 0 || oneshot < 0 || boot < 0) {
		fail("timerfd_create");
		return 1;
	}
	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = 1000;
	its.it_interval.tv_sec = 500;
	its.it_interval.tv_nsec = 7;
	if (timerfd_settime(mono, 0, &its, NULL)) {
		fail("timerfd_settime mono");
		return 1;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	deadline = now.tv_sec + 1000;
	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = deadline;
	if (timerfd_settime(real, TFD_TIMER_ABSTIME, &its, NULL)) {
		fail("timerfd_settime real");
		return 1;
	}
	memset(&its, 0, sizeof(its));
	its.it_value.tv_nsec = 1;
	if (timerfd_settime(oneshot, 0, &its, NULL)) {
		fail("timerfd_settime oneshot");
		return 1;
	}
	/* Wait for the one expiry, then say 5 are unread. */
	while (fdinfo_field(oneshot, "ticks", 10) < 1)
		usleep(1000);
	if (ioctl(oneshot, TFD_IOC_SET_TICKS, &ticks)) {
		fail("TFD_IOC_SET_TICKS");
		return 1;
	}
	dup1 = dup(oneshot);
	memset(&its, 0, sizeof(its));
	its.it_interval.tv_sec = 42;
	if (timerfd_settime(boot, 0, &its, NULL)) {
		fail("timerfd_settime boot");
		return 1;
	}

	test_daemon();
	test_waitsig();

	if (test_sabotage())
		read(oneshot, &v, 8);

	if (timerfd_gettime(mono, &got))
		fail("timerfd_gettime mono");
	if (got.it_interval.tv_sec != 500 || got.it_interval.tv_nsec != 7)
		fail("mono interval %ld.%09ld, want 500.000000007", (long)got.it_interval.tv_sec, got.it_interval.tv_nsec);
	if ((got.it_value.tv_sec == 0 && got.it_value.tv_nsec == 0) || got.it_value.tv_sec >= 1000)
		fail("mono value %ld.%09ld, want armed, below 1000 s", (long)got.it_value.tv_sec, got.it_value.tv_nsec);
	if (fdinfo_field(mono, "clockid", 10) != CLOCK_MONOTONIC || !(fcntl(mono, F_GETFL) & O_NONBLOCK))
		fail("mono clock or O_NONBLOCK lost");
	if (read(mono, &v, 8) != -1 || errno != EAGAIN)
		fail("mono timer has expirations it never had");

	if (timerfd_gettime(real, &got))
		fail("timerfd_gettime real");
	clock_gettime(CLOCK_REALTIME, &now);
	/* Absolute: the expiry stays at the deadline, whenever the restore was. */
	if (got.it_value.tv_sec == 0 && got.it_value.tv_nsec == 0)
		fail("realtime timer disarmed");
	else if (now.tv_sec + got.it_value.tv_sec + 1 < deadline || now.tv_sec + got.it_value.tv_sec > deadline)
		fail("realtime timer expires at %ld, want %ld", (long)(now.tv_sec + got.it_value.tv_sec), (long)deadline);
	if (fdinfo_field(real, "clockid", 10) != CLOCK_REALTIME || fdinfo_field(real, "settime flags", 8) != TFD_TIMER_ABSTIME)
		fail("realtime timer: clock %lld, settime flags %llo", fdinfo_field(real, "clockid", 10), fdinfo_field(real, "settime flags", 8));
	if (fcntl(real, F_GETFL) & O_NONBLOCK)
		fail("realtime timer became non-blocking");

	if (read(dup1, &v, 8) != 8 || v != 5)
		fail("one-shot timer: read %llu expirations through the dup, want 5", (unsigned long long)v);
	if (read(oneshot, &v, 8) != -1 || errno != EAGAIN)
		fail("one-shot timer: still has expirations after reading them through its dup");
	if (timerfd_gettime(oneshot, &got) || got.it_value.tv_sec || got.it_value.tv_nsec)
		fail("one-shot timer is armed again");

	if (timerfd_gettime(boot, &got) || got.it_value.tv_sec || got.it_value.tv_nsec || got.it_interval.tv_sec != 42)
		fail("boottime timer: value %ld, interval %ld, want disarmed with interval 42", (long)got.it_value.tv_sec, (long)got.it_interval.tv_sec);
	if (fdinfo_field(boot, "clockid", 10) != CLOCK_BOOTTIME)
		fail("boottime timer: clock %lld", fdinfo_field(boot, "clockid", 10));
	pass();
	return test_exit();
}
