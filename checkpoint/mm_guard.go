package checkpoint

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/internal/kernel"
	"github.com/ckpt/ckpt/internal/proc"
)

// refuseGuards refuses a process with guard regions (madvise
// MADV_GUARD_INSTALL): they live in the page tables, not in any VMA flag,
// and an image has no place for them yet, so a restore would drop them in
// silence. A kernel without them (before 6.15) does not know the
// category and refuses the query: there is nothing to find then.
func refuseGuards(pid int, vmas []proc.Vma) error {
	pm, err := proc.OpenPagemap(pid)
	if err != nil {
		return err
	}
	defer pm.Close()
	q := proc.ScanQuery{Mask: kernel.PAGE_IS_GUARD, Return: kernel.PAGE_IS_GUARD}
	var regs []kernel.PageRegion
	for _, v := range vmas {
		if isKernelSpecial(v.Path) {
			continue
		}
		regs, err = pm.Scan(v.Start, v.End, q, regs[:0])
		if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOTTY) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("vma %x-%x: look for guard regions: %w", v.Start, v.End, err)
		}
		if len(regs) > 0 {
			return unsupported(pid, fmt.Sprintf("vma %x-%x %s", v.Start, v.End, v.Path),
				"it has guard regions (MADV_GUARD_INSTALL) at %#x-%#x: not supported yet", regs[0].Start, regs[0].End)
		}
	}
	return nil
}
