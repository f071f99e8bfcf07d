package keyring

import (
	"encoding/binary"
	"math"
)

// SecretAAD builds the additional data that binds a sealed secret field to
// its place. Components are length-prefixed so that no two different tuples
// produce the same bytes.
func SecretAAD(projectID, environmentID, secretID string, version int, field string) []byte {
	b := make([]byte, 0, 5*4+len("coffer secret")+len(projectID)+len(environmentID)+len(secretID)+8+len(field))
	b = appendLP(b, "coffer secret")
	b = appendLP(b, projectID)
	b = appendLP(b, environmentID)
	b = appendLP(b, secretID)
	b = binary.BigEndian.AppendUint64(b, uint64(int64(version)))
	return appendLP(b, field)
}

// dekAAD is the additional data of a wrapped data key.
func dekAAD(projectID string, term uint32) []byte {
	b := make([]byte, 0, 4+len("coffer dek")+4+len(projectID)+4)
	b = appendLP(b, "coffer dek")
	b = appendLP(b, projectID)
	return binary.BigEndian.AppendUint32(b, term)
}

// appendLP appends s prefixed by its length as 4 big-endian bytes.
func appendLP(b []byte, s string) []byte {
	if uint64(len(s)) > math.MaxUint32 {
		panic("keyring: additional data component longer than 4 GiB")
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}
