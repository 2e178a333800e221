package image

// TypeForkPages is memory shared copy-on-write with the parent task
// (format 3.1).
const TypeForkPages Type = 405

var _ = registerType(typeInfo{typ: TypeForkPages, name: "FORK_PAGES", new: func() Record { return new(ForkPages) }})

// ForkPages (FORK_PAGES, type 405) belongs to the MM before it, after its
// PAGES: runs of pages whose content is the one the task's parent (its
// PSTREE PPid; the MM that parent uses) has at the same addresses, held
// in that MM's PAGES records of this image. At checkpoint those pages
// were the very same physical pages in both (inherited across fork and
// written by neither since), so they are saved once, with the parent.
// Runs are ascending, disjoint, inside VMAs that take pages, never
// overlap the task's own PAGES or PARENT_PAGES, and each page of a run is
// in the parent's PAGES. An MM may have several.
type ForkPages struct {
	Runs []PageRun
}

func (*ForkPages) Type() Type { return TypeForkPages }

// MaxForkRunsPerRecord keeps a FORK_PAGES record well under
// MaxPlainRecordLen.
const MaxForkRunsPerRecord = 32768
