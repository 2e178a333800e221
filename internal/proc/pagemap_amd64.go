package proc

const (
	pageShift = 12
	pageSize  = 1 << pageShift

	// taskSizeMax is the end of the x86_64 user address space with 4-level
	// paging (arch/x86/include/asm/page_64_types.h, TASK_SIZE_MAX). The
	// kernel's pagemap walk stops there, and PAGEMAP_SCAN's access_ok()
	// refuses ranges beyond it; [vsyscall] lies above it.
	taskSizeMax = 1<<47 - pageSize
)
