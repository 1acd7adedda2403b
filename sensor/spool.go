package sensor

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
)

// ErrSpoolFull is returned by Spool.Append when the record would take the
// spool beyond its size limit.
var ErrSpoolFull = errors.New("spool full")

// Spool keeps, in one file on disk, the events that did not fit the NATS
// client's memory buffer while NATS was unreachable, so that they go out,
// in order, once it is back, also after the sensor restarted.
//
// The file is a sequence of records: subject length and data length
// (uint32, little endian), the CRC-32 (Castagnoli) of subject and data,
// then subject and data. The Publisher stores the event's message id after
// its subject, separated by a space (subjects have none), so that an event
// sent again after a restart keeps its id. A second file holds how far replay got, so a
// restart does not send again what went out; it is written every 1 MiB of
// replay and at Close (what was replayed after the last write is sent again
// after a crash: the engines' stable finding ids make that harmless). A
// record torn by a crash, or damaged, ends the file: it and what follows
// are cut off (and counted in Spool.Damaged).
//
// A Spool is used by one goroutine (the Publisher's).
type Spool struct {
	f       *os.File
	offPath string
	max     int64
	size    int64 // end of the last record
	read    int64 // start of the next record to replay
	saved   int64 // read as last written to offPath
	damaged int64 // bytes cut off at open
	buf     []byte
}

const (
	spoolHeader   = 12
	spoolFileName = "events.spool"
	spoolOffName  = "events.spool.offset"
)

var spoolCRC = crc32.MakeTable(crc32.Castagnoli)

// OpenSpool opens (creating it, 0600 in a 0700 folder) the spool in dir,
// holding at most maxBytes of records.
func OpenSpool(dir string, maxBytes int64) (*Spool, error) {
	if maxBytes <= 0 {
		return nil, fmt.Errorf("spool %s: size limit %d: want more than 0", dir, maxBytes)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	path := filepath.Join(dir, spoolFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("spool %s: %w", path, err)
	}
	s := &Spool{f: f, offPath: filepath.Join(dir, spoolOffName), max: maxBytes, size: st.Size()}
	if b, err := os.ReadFile(s.offPath); err == nil && len(b) == 8 {
		if off := int64(binary.LittleEndian.Uint64(b)); off >= 0 && off <= s.size {
			s.read, s.saved = off, off
		}
	}
	// Check the records not yet replayed; cut the file at the first bad one.
	end, err := s.validEnd()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("spool %s: %w", path, err)
	}
	if end < s.size {
		s.damaged = s.size - end
		if err := f.Truncate(end); err != nil {
			f.Close()
			return nil, fmt.Errorf("spool %s: cutting a damaged record at offset %d: %w", path, end, err)
		}
		s.size = end
	}
	if s.read == s.size {
		if err := s.reset(); err != nil {
			f.Close()
			return nil, err
		}
	}
	return s, nil
}

// validEnd returns the end of the last whole, intact record from read on.
func (s *Spool) validEnd() (int64, error) {
	off := s.read
	for off < s.size {
		_, _, n, err := s.at(off)
		if errors.Is(err, errSpoolRecord) {
			return off, nil
		}
		if err != nil {
			return 0, err
		}
		off += n
	}
	return off, nil
}

var errSpoolRecord = errors.New("damaged spool record")

// at reads the record at off.
func (s *Spool) at(off int64) (subject string, data []byte, n int64, err error) {
	var h [spoolHeader]byte
	if _, err := s.f.ReadAt(h[:], off); err != nil {
		if errors.Is(err, io.EOF) {
			return "", nil, 0, errSpoolRecord
		}
		return "", nil, 0, err
	}
	sl, dl := int64(binary.LittleEndian.Uint32(h[0:])), int64(binary.LittleEndian.Uint32(h[4:]))
	if sl == 0 || sl > 1<<16 || dl > 64<<20 || off+spoolHeader+sl+dl > s.size {
		return "", nil, 0, errSpoolRecord
	}
	if int64(cap(s.buf)) < sl+dl {
		s.buf = make([]byte, sl+dl)
	}
	b := s.buf[:sl+dl]
	if _, err := s.f.ReadAt(b, off+spoolHeader); err != nil {
		if errors.Is(err, io.EOF) {
			return "", nil, 0, errSpoolRecord
		}
		return "", nil, 0, err
	}
	if crc32.Checksum(b, spoolCRC) != binary.LittleEndian.Uint32(h[8:]) {
		return "", nil, 0, errSpoolRecord
	}
	return string(b[:sl]), b[sl:], spoolHeader + sl + dl, nil
}

// Append adds a record at the end; ErrSpoolFull when it does not fit.
func (s *Spool) Append(subject string, data []byte) error {
	n := int64(spoolHeader + len(subject) + len(data))
	if s.size-s.read+n > s.max {
		return ErrSpoolFull
	}
	rec := make([]byte, n)
	binary.LittleEndian.PutUint32(rec[0:], uint32(len(subject)))
	binary.LittleEndian.PutUint32(rec[4:], uint32(len(data)))
	copy(rec[spoolHeader:], subject)
	copy(rec[spoolHeader+len(subject):], data)
	binary.LittleEndian.PutUint32(rec[8:], crc32.Checksum(rec[spoolHeader:], spoolCRC))
	if _, err := s.f.WriteAt(rec, s.size); err != nil {
		return fmt.Errorf("spool %s: %w", s.f.Name(), err)
	}
	s.size += n
	return nil
}

// Next returns the oldest record not yet replayed; io.EOF when there is
// none. The data is valid until the next call; Done marks it replayed.
func (s *Spool) Next() (subject string, data []byte, err error) {
	if s.read >= s.size {
		return "", nil, io.EOF
	}
	subject, data, _, err = s.at(s.read)
	return subject, data, err
}

// Done marks the record Next returned as replayed. Once every record is,
// the file is emptied.
func (s *Spool) Done() error {
	_, _, n, err := s.at(s.read)
	if err != nil {
		return err
	}
	s.read += n
	if s.read == s.size {
		return s.reset()
	}
	if s.read-s.saved >= 1<<20 {
		return s.saveOffset()
	}
	return nil
}

// Pending is the number of bytes not yet replayed.
func (s *Spool) Pending() int64 { return s.size - s.read }

// Damaged is the number of bytes cut off at open (a record torn by a crash).
func (s *Spool) Damaged() int64 { return s.damaged }

func (s *Spool) reset() error {
	if err := s.f.Truncate(0); err != nil {
		return fmt.Errorf("spool %s: %w", s.f.Name(), err)
	}
	s.size, s.read, s.saved = 0, 0, 0
	if err := os.Remove(s.offPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("spool: %w", err)
	}
	return nil
}

func (s *Spool) saveOffset() error {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(s.read))
	tmp := s.offPath + ".tmp"
	if err := os.WriteFile(tmp, b[:], 0o600); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	if err := os.Rename(tmp, s.offPath); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	s.saved = s.read
	return nil
}

// Close records how far replay got and closes the file.
func (s *Spool) Close() error {
	var err error
	if s.read != s.saved {
		err = s.saveOffset()
	}
	return errors.Join(err, s.f.Close())
}
