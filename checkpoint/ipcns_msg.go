package checkpoint

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/ckpt/ckpt/image"
	"github.com/ckpt/ckpt/internal/kernel"
	"github.com/ckpt/ckpt/internal/sysvipc"
)

// maxMsgData bounds one saved message: it must fit in one record.
const maxMsgData = image.MaxPlainRecordLen - 64

// readMsg saves every message queue and its messages, oldest first, copied
// out with MSG_COPY so that the queue stays as it is.
func (st *ipcState) readMsg(pid int) error {
	rows, err := sysvipc.Rows("msg")
	if err != nil {
		return err
	}
	for _, row := range rows {
		n, err := sysvipc.Nums(row, 0, 1, 2, 3, 4, 7, 8, 9, 10)
		if err != nil {
			return err
		}
		q := &ipcMsg{rec: image.IpcMsg{
			Key: int32(n[0]), Id: int32(n[1]), Mode: uint32(n[2]),
			Uid: uint32(n[5]), Gid: uint32(n[6]), Cuid: uint32(n[7]), Cgid: uint32(n[8]),
		}}
		obj := fmt.Sprintf("System V message queue %d (key %#x)", q.rec.Id, uint32(q.rec.Key))
		if q.rec.Mode&^image.IpcModeMask != 0 {
			return unsupported(pid, obj, "mode %#o has bits we do not know", q.rec.Mode)
		}
		ds, err := kernel.MsgStat(int(q.rec.Id))
		if err != nil {
			return fmt.Errorf("%s: IPC_STAT: %w", obj, err)
		}
		q.rec.Qbytes = ds.Qbytes
		// No message is longer than all the queue's bytes together.
		limit := int(min(ds.Cbytes, maxMsgData))
		for i := 0; i < int(ds.Qnum); i++ {
			mtype, text, err := kernel.MsgCopy(int(q.rec.Id), i, limit)
			if errors.Is(err, unix.E2BIG) {
				return unsupported(pid, obj, "message %d is longer than %d bytes", i, limit)
			}
			if err != nil {
				return fmt.Errorf("%s: copy message %d: %w", obj, i, err)
			}
			q.msgs = append(q.msgs, image.IpcMsgData{Mtype: mtype, Data: text})
		}
		q.rec.NrMsgs = uint32(len(q.msgs))
		st.msgs = append(st.msgs, q)
	}
	return nil
}
