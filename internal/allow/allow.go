// Package allow is the one set of permissions a checkpoint or a restore is
// given for state that leads outside what the image can hold. Each is off
// by default: without it such state is refused, named. The same struct is
// embedded in the options of the engines (checkpoint, restore) and of the
// runtime's checkpoint and restore, filled from the command line by one
// flag helper (internal/cli) and from runc's options by the shim.
package allow

// Allow lists the permissions. A checkpoint made with one needs it again
// at restore for the same state.
type Allow struct {
	// TcpEstablished: established TCP connections are saved in TCP repair
	// mode and restored; the peer is outside the image.
	TcpEstablished bool
	// FileLocks: file locks (flock, POSIX, OFD) are saved and taken again;
	// they guard files whose other users the image cannot know about.
	FileLocks bool
	// ExtUnixSk: unix sockets whose peer is outside the tree are saved as
	// external files, which restore connects to what the caller gives.
	ExtUnixSk bool
	// ShellJob: terminals outside the checkpoint (the user's) are saved as
	// external files; restore attaches the tasks to its own terminal.
	ShellJob bool
	// SharedOffset: a regular file's open file description shared with a
	// process outside the tree (a wrapper holding the same stdout) is
	// saved like any other; the restored task gets a description of its
	// own, so its offset and status flags part from the outside one's.
	// Checkpoint only: restore takes the flag and does nothing more.
	SharedOffset bool
}

// Permission names one field of Allow: its command-line flag (runc's
// spelling, also CRIU's) and where it is.
type Permission struct {
	Flag  string
	Field func(*Allow) *bool
}

// Permissions are every field of Allow, in a fixed order.
var Permissions = []Permission{
	{"file-locks", func(a *Allow) *bool { return &a.FileLocks }},
	{"ext-unix-sk", func(a *Allow) *bool { return &a.ExtUnixSk }},
	{"shell-job", func(a *Allow) *bool { return &a.ShellJob }},
	{"tcp-established", func(a *Allow) *bool { return &a.TcpEstablished }},
	{"allow-shared-offset", func(a *Allow) *bool { return &a.SharedOffset }},
}
