package kernel

import (
	"testing"
	"unsafe"
)

// The expected values are the kernel's, computed by hand from the headers
// named on each struct (x86_64: u64 aligned to 8, u32/s32 to 4).
func TestLayout(t *testing.T) {
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"sizeof(struct clone_args)", unsafe.Sizeof(CloneArgs{}), 88},

		{"sizeof(struct aio_ring)", unsafe.Sizeof(AioRingHeader{}), AioRingHeaderSize},
		{"aio_ring.tail", unsafe.Offsetof(AioRingHeader{}.Tail), 12},
		{"aio_ring.magic", unsafe.Offsetof(AioRingHeader{}.Magic), 16},
		{"sizeof(struct io_event)", unsafe.Sizeof(IoEvent{}), IoEventSize},
		{"sizeof(struct iocb)", unsafe.Sizeof(Iocb{}), IocbSize},
		{"iocb.aio_lio_opcode", unsafe.Offsetof(Iocb{}.Opcode), 16},
		{"iocb.aio_fildes", unsafe.Offsetof(Iocb{}.Fildes), 20},
		{"iocb.aio_buf", unsafe.Offsetof(Iocb{}.Buf), 24},
		{"iocb.aio_nbytes", unsafe.Offsetof(Iocb{}.Nbytes), 32},
		{"iocb.aio_offset", unsafe.Offsetof(Iocb{}.Offset), 40},
		{"iocb.aio_flags", unsafe.Offsetof(Iocb{}.Flags), 56},

		{"sizeof(struct uffdio_api)", unsafe.Sizeof(UffdioAPIArg{}), 24},
		{"sizeof(struct uffdio_register)", unsafe.Sizeof(UffdioRegisterArg{}), 32},
		{"uffdio_register.mode", unsafe.Offsetof(UffdioRegisterArg{}.Mode), 16},

		{"sizeof(struct msqid64_ds)", unsafe.Sizeof(MsqidDs{}), 120},
		{"msqid64_ds.msg_qbytes", unsafe.Offsetof(MsqidDs{}.Qbytes), 88},
		{"sizeof(struct semid64_ds)", unsafe.Sizeof(SemidDs{}), 104},
		{"semid64_ds.sem_nsems", unsafe.Offsetof(SemidDs{}.Nsems), 80},
		{"sizeof(struct sembuf)", unsafe.Sizeof(Sembuf{}), 6},
		{"sizeof(struct f_owner_ex)", unsafe.Sizeof(FOwnerEx{}), 8},
		{"sizeof(struct unix_diag_req)", unsafe.Sizeof(UnixDiagReq{}), 24},
		{"unix_diag_req.udiag_states", unsafe.Offsetof(UnixDiagReq{}.States), 4},
		{"unix_diag_req.udiag_ino", unsafe.Offsetof(UnixDiagReq{}.Ino), 8},
		{"unix_diag_req.udiag_show", unsafe.Offsetof(UnixDiagReq{}.Show), 12},
		{"unix_diag_req.udiag_cookie", unsafe.Offsetof(UnixDiagReq{}.Cookie), 16},
		{"sizeof(struct packet_diag_req)", unsafe.Sizeof(PacketDiagReq{}), 20},
		{"packet_diag_req.pdiag_ino", unsafe.Offsetof(PacketDiagReq{}.Ino), 4},
		{"packet_diag_req.pdiag_show", unsafe.Offsetof(PacketDiagReq{}.Show), 8},
		{"packet_diag_req.pdiag_cookie", unsafe.Offsetof(PacketDiagReq{}.Cookie), 12},
		{"clone_args.exit_signal", unsafe.Offsetof(CloneArgs{}.ExitSignal), 32},
		{"clone_args.tls", unsafe.Offsetof(CloneArgs{}.TLS), 56},
		{"clone_args.set_tid", unsafe.Offsetof(CloneArgs{}.SetTid), 64},
		{"clone_args.set_tid_size", unsafe.Offsetof(CloneArgs{}.SetTidSize), 72},
		{"clone_args.cgroup", unsafe.Offsetof(CloneArgs{}.Cgroup), 80},

		{"sizeof(struct prctl_mm_map)", unsafe.Sizeof(PrctlMmMap{}), 104},
		{"prctl_mm_map.env_end", unsafe.Offsetof(PrctlMmMap{}.EnvEnd), 80},
		{"prctl_mm_map.auxv", unsafe.Offsetof(PrctlMmMap{}.Auxv), 88},
		{"prctl_mm_map.auxv_size", unsafe.Offsetof(PrctlMmMap{}.AuxvSize), 96},
		{"prctl_mm_map.exe_fd", unsafe.Offsetof(PrctlMmMap{}.ExeFd), 100},

		{"sizeof(struct ptrace_rseq_configuration)", unsafe.Sizeof(RseqConfig{}), 24},
		{"ptrace_rseq_configuration.rseq_abi_size", unsafe.Offsetof(RseqConfig{}.RseqAbiSize), 8},
		{"ptrace_rseq_configuration.signature", unsafe.Offsetof(RseqConfig{}.Signature), 12},
		{"ptrace_rseq_configuration.flags", unsafe.Offsetof(RseqConfig{}.Flags), 16},

		{"sizeof(struct ptrace_peeksiginfo_args)", unsafe.Sizeof(PeekSiginfoArgs{}), 16},
		{"ptrace_peeksiginfo_args.flags", unsafe.Offsetof(PeekSiginfoArgs{}.Flags), 8},
		{"ptrace_peeksiginfo_args.nr", unsafe.Offsetof(PeekSiginfoArgs{}.Nr), 12},

		{"sizeof(kernel struct sigaction)", unsafe.Sizeof(KSigaction{}), 32},
		{"sigaction.sa_flags", unsafe.Offsetof(KSigaction{}.Flags), 8},
		{"sigaction.sa_restorer", unsafe.Offsetof(KSigaction{}.Restorer), 16},
		{"sigaction.sa_mask", unsafe.Offsetof(KSigaction{}.Mask), 24},

		{"sizeof(stack_t)", unsafe.Sizeof(StackT{}), 24},
		{"stack_t.ss_flags", unsafe.Offsetof(StackT{}.Flags), 8},
		{"stack_t.ss_size", unsafe.Offsetof(StackT{}.Size), 16},

		{"sizeof(siginfo_t)", unsafe.Sizeof(Siginfo{}), 128},

		{"sizeof(struct user_regs_struct)", unsafe.Sizeof(Regs{}), NumRegs * 8},
		{"user_regs_struct.rax", unsafe.Offsetof(Regs{}.Rax), 10 * 8},
		{"user_regs_struct.orig_rax", unsafe.Offsetof(Regs{}.Orig_rax), 15 * 8},
		{"user_regs_struct.rip", unsafe.Offsetof(Regs{}.Rip), 16 * 8},
		{"user_regs_struct.rsp", unsafe.Offsetof(Regs{}.Rsp), 19 * 8},
		{"user_regs_struct.fs_base", unsafe.Offsetof(Regs{}.Fs_base), 21 * 8},
		{"user_regs_struct.gs", unsafe.Offsetof(Regs{}.Gs), 26 * 8},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
}
