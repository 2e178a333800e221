package restore

import (
	"fmt"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/kernel"
)

// makeIpcMsg creates a message queue; its messages follow.
func (rs *restorer) makeIpcMsg(q *image.IpcMsg) error {
	o := ipcObject{"msg", q.Id, q.Key, q.Mode, q.Uid, q.Gid, q.Cuid, q.Cgid}
	if _, err := rs.ipcNamespace(); err != nil {
		return err
	}
	if err := o.check(rs.ipc.msgs[q.Id]); err != nil {
		return err
	}
	if q.Mode&^image.IpcModeMask != 0 {
		return badImage("%v: mode %#o", o, q.Mode)
	}
	err := rs.inIpcns(func() error {
		if err := o.create(func(flags int) (int, error) { return kernel.MsgGet(int(q.Key), flags) }); err != nil {
			return err
		}
		ds, err := kernel.MsgStat(int(q.Id))
		if err != nil {
			return fmt.Errorf("%v: IPC_STAT: %w", o, err)
		}
		if ds.Perm.Uid != q.Uid || ds.Perm.Gid != q.Gid || ds.Qbytes != q.Qbytes {
			ds.Perm.Uid, ds.Perm.Gid, ds.Qbytes = q.Uid, q.Gid, q.Qbytes
			if err := kernel.MsgSet(int(q.Id), ds); err != nil {
				return fmt.Errorf("%v: set owner %d:%d and byte limit %d: %w", o, q.Uid, q.Gid, q.Qbytes, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	rs.ipc.msgs[q.Id] = true
	rs.ipc.msg, rs.ipc.left = q, q.NrMsgs
	return nil
}

// addIpcMsg queues one message at the end of the queue before it.
func (rs *restorer) addIpcMsg(m *image.IpcMsgData) error {
	ip := &rs.ipc
	if ip.left == 0 {
		return badImage("IPC_MSG_DATA with no message queue expecting it")
	}
	if m.Mtype <= 0 {
		return badImage("message queue %d: message of type %d", ip.msg.Id, m.Mtype)
	}
	ip.left--
	return rs.inIpcns(func() error {
		if err := kernel.MsgSend(int(ip.msg.Id), m.Mtype, m.Data); err != nil {
			return fmt.Errorf("message queue %d: queue a message of %d bytes: %w", ip.msg.Id, len(m.Data), err)
		}
		return nil
	})
}
