package restore

// stubCode is the stub's whole program:
//
//	close(3)            tell the controller the exec is done
//	loop: pause()       wait to be seized
//	      jmp loop
var stubCode = []byte{
	0xb8, 0x03, 0x00, 0x00, 0x00, // mov eax, 3 (close)
	0xbf, 0x03, 0x00, 0x00, 0x00, // mov edi, 3
	0x0f, 0x05, // syscall
	0xb8, 0x22, 0x00, 0x00, 0x00, // loop: mov eax, 34 (pause)
	0x0f, 0x05, // syscall            <- stubSyscallOff
	0xeb, 0xf7, // jmp loop
}

// stubSyscallOff is the offset in stubCode of the syscall instruction the
// controller injects through.
const stubSyscallOff = 17

// syscallInsn is the encoding of the x86_64 syscall instruction.
var syscallInsn = []byte{0x0f, 0x05}

// ELF constants from include/uapi/linux/elf.h and elf-em.h.
const (
	elfMachine = 62 // EM_X86_64
)
