/*
 * rawholder: a container's init that holds a raw socket (IPv4, protocol
 * 253, which nothing sends) at fd 3 and has given up CAP_NET_RAW since, as
 * ping does: dropped from its bounding, permitted, effective, inheritable
 * and ambient sets. Its stdio then goes to /dev/null (the sign for the
 * test that it is ready), and it sleeps.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];
	unsigned bit = 1u << CAP_NET_RAW; /* CAP_NET_RAW is 13: word 0 */
	int s = socket(AF_INET, SOCK_RAW, 253), null;

	if (s < 0 || (s != 3 && dup2(s, 3) != 3))
		return 1;
	if (prctl(PR_CAPBSET_DROP, CAP_NET_RAW, 0, 0, 0) ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_LOWER, CAP_NET_RAW, 0, 0) || syscall(SYS_capget, &h, d))
		return 2;
	d[0].effective &= ~bit;
	d[0].permitted &= ~bit;
	d[0].inheritable &= ~bit;
	if (syscall(SYS_capset, &h, d))
		return 3;
	null = open("/dev/null", O_RDWR);
	if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
		return 4;
	for (;;)
		pause();
}
