package collectd

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"time"
)

// Part types of the binary network protocol.
const (
	partHost           = 0x0000
	partTime           = 0x0001
	partPlugin         = 0x0002
	partPluginInstance = 0x0003
	partType           = 0x0004
	partTypeInstance   = 0x0005
	partValues         = 0x0006
	partInterval       = 0x0007
	partTimeHR         = 0x0008
	partIntervalHR     = 0x0009
	partMessage        = 0x0100
	partSeverity       = 0x0101
	partSignature      = 0x0200
	partEncryption     = 0x0210
)

var partNames = map[uint16]string{
	partHost: "host", partTime: "time", partPlugin: "plugin", partPluginInstance: "plugin_instance",
	partType: "type", partTypeInstance: "type_instance", partValues: "values", partInterval: "interval",
	partTimeHR: "time_hr", partIntervalHR: "interval_hr", partMessage: "message", partSeverity: "severity",
	partSignature: "signature", partEncryption: "encryption",
}

const (
	hmacSize     = sha256.Size // signature part
	ivSize       = aes.BlockSize
	checksumSize = sha1.Size // encrypted part
	// maxNesting bounds encrypted and signed parts inside each other.
	maxNesting = 4
)

// Errors of DecodePacket that a caller may branch on (with errors.Is).
var (
	// ErrUnknownUser: a signed or encrypted part names a user Passwords
	// does not know, or there are no Passwords to verify it with.
	ErrUnknownUser = errors.New("collectd: unknown user")
	// ErrSignature: a signature does not match the data it covers.
	ErrSignature = errors.New("collectd: bad signature")
	// ErrDecrypt: an encrypted part's checksum does not match after
	// decryption (a wrong password, or corrupt data).
	ErrDecrypt = errors.New("collectd: decryption failed")
	// ErrInsecure: data below the receiver's security level was dropped.
	ErrInsecure = errors.New("collectd: data below the security level dropped")
)

// PacketError is an error in a network packet.
type PacketError struct {
	Offset int    // byte offset of the part in its packet (or decrypted payload)
	Part   uint16 // part type
	Err    error
}

// Error formats e as "collectd: packet offset 12, part values (0x0006): cause".
func (e *PacketError) Error() string {
	name, ok := partNames[e.Part]
	if !ok {
		name = "unknown"
	}
	return fmt.Sprintf("collectd: packet offset %d, part %s (%#04x): %v", e.Offset, name, e.Part, e.Err)
}

// Unwrap returns the cause.
func (e *PacketError) Unwrap() error { return e.Err }

// DecodeOptions are the receiver's settings for DecodePacket. The zero
// value accepts everything and verifies nothing.
type DecodeOptions struct {
	// SecurityLevel is the least protection data must have to be
	// accepted; see SecurityLevel.
	SecurityLevel SecurityLevel
	// Passwords verifies signed parts and decrypts encrypted ones. With
	// nil Passwords, level None accepts signed data unverified (as
	// collectd does without an AuthFile) and skips encrypted parts; levels
	// Sign and Encrypt accept nothing.
	Passwords Passwords
}

// DecodePacket decodes one packet of collectd's binary network protocol
// (a UDP datagram from collectd's network plugin).
//
// Value lists and notifications are returned in packet order. Data below
// opts.SecurityLevel is dropped, reported once as an error matching
// ErrInsecure. A signature by an unknown user or that does not verify
// drops everything it covers (ErrUnknownUser, ErrSignature); an encrypted
// part that does not decrypt is dropped (ErrUnknownUser, ErrDecrypt). A
// malformed part (a *PacketError) ends decoding; what was decoded before it
// is returned with the error, as collectd dispatches parts as it reads
// them. Unknown part types are skipped. Time and interval of zero stay
// zero.
//
// Decoding allocates at most in proportion to len(b): no length field is
// trusted beyond the bytes present. The results do not alias b.
func DecodePacket(b []byte, opts DecodeOptions) ([]ValueList, []Notification, error) {
	d := packetDecoder{opts: opts}
	err := d.parse(b, None, 0)
	if d.dropped > 0 {
		err = errors.Join(err, fmt.Errorf("%w: %d value lists or notifications below security level %v", ErrInsecure, d.dropped, opts.SecurityLevel))
	}
	return d.vls, d.notifs, err
}

type packetDecoder struct {
	opts    DecodeOptions
	vls     []ValueList
	notifs  []Notification
	dropped int
	errs    []error
}

// parseState is what earlier parts set for later ones.
type parseState struct {
	host, plugin, pluginInstance, typ, typeInstance string
	time                                            time.Time
	interval                                        time.Duration
	severity                                        Severity
}

// parse decodes the parts of b, which has protection level (None for
// plain data, Sign for signed, Encrypt for decrypted).
func (d *packetDecoder) parse(b []byte, level SecurityLevel, depth int) error {
	var st parseState
	// Size the results once: one pass over the part headers counts the
	// value lists and their values (bounded by len(b), as each value takes
	// 9 bytes), so that all Values of b share one array.
	nvl, nv := countValues(b)
	d.vls = slices.Grow(d.vls, nvl)
	slab := make([]Value, 0, nv)
	var errs []error
	off := 0
	for off < len(b) {
		if len(b)-off < 4 {
			return errors.Join(append(errs, &PacketError{Offset: off, Part: 0xffff, Err: fmt.Errorf("%d trailing bytes, too short for a part header", len(b)-off)})...)
		}
		typ := binary.BigEndian.Uint16(b[off:])
		n := int(binary.BigEndian.Uint16(b[off+2:]))
		if n < 4 || n > len(b)-off {
			return errors.Join(append(errs, &PacketError{Offset: off, Part: typ, Err: fmt.Errorf("length %d, but %d bytes are left", n, len(b)-off)})...)
		}
		payload := b[off+4 : off+n]
		perr := func(err error) error { return &PacketError{Offset: off, Part: typ, Err: err} }
		switch typ {
		case partHost, partPlugin, partPluginInstance, partType, partTypeInstance, partMessage:
			s, err := partString(payload)
			if err != nil {
				return errors.Join(append(errs, perr(err))...)
			}
			switch typ {
			case partHost:
				st.host = s
			case partPlugin:
				st.plugin = s
			case partPluginInstance:
				st.pluginInstance = s
			case partType:
				st.typ = s
			case partTypeInstance:
				st.typeInstance = s
			case partMessage:
				if level < d.opts.SecurityLevel {
					d.dropped++
					break
				}
				d.notifs = append(d.notifs, Notification{Host: st.host, Plugin: st.plugin, PluginInstance: st.pluginInstance,
					Type: st.typ, TypeInstance: st.typeInstance, Time: st.time, Severity: st.severity, Message: s})
			}
		case partTime, partTimeHR, partInterval, partIntervalHR, partSeverity:
			if len(payload) != 8 {
				return errors.Join(append(errs, perr(fmt.Errorf("length %d, want 12", n)))...)
			}
			v := binary.BigEndian.Uint64(payload)
			switch typ {
			case partTime:
				st.time = secondsTime(v)
			case partTimeHR:
				st.time = cdTime(v)
			case partInterval:
				st.interval = secondsDuration(v)
			case partIntervalHR:
				st.interval = cdDuration(v)
			case partSeverity:
				st.severity = Severity(int64(min(v, math.MaxInt32)))
			}
		case partValues:
			values, err := partValuesOf(payload, &slab)
			if err != nil {
				return errors.Join(append(errs, perr(err))...)
			}
			if level < d.opts.SecurityLevel {
				d.dropped++
				break
			}
			d.vls = append(d.vls, ValueList{Host: st.host, Plugin: st.plugin, PluginInstance: st.pluginInstance,
				Type: st.typ, TypeInstance: st.typeInstance, Time: st.time, Interval: st.interval, Values: values})
		case partSignature:
			if depth >= maxNesting {
				return errors.Join(append(errs, perr(errors.New("nested too deep")))...)
			}
			err := d.signed(payload, b[off+n:], level, depth)
			if err != nil {
				err = perr(err)
			}
			// The signature covers the rest of the packet.
			return errors.Join(append(errs, err)...)
		case partEncryption:
			if depth >= maxNesting {
				return errors.Join(append(errs, perr(errors.New("nested too deep")))...)
			}
			if err := d.encrypted(payload, depth); err != nil {
				var pe *PacketError
				if errors.As(err, &pe) || !errors.Is(err, ErrUnknownUser) && !errors.Is(err, ErrDecrypt) {
					return errors.Join(append(errs, perr(err))...)
				}
				// A part that cannot be decrypted is dropped; the
				// packet's other parts stand on their own.
				errs = append(errs, perr(err))
			}
		}
		off += n
	}
	return errors.Join(errs...)
}

func (d *packetDecoder) signed(payload, rest []byte, level SecurityLevel, depth int) error {
	if len(payload) < hmacSize {
		return fmt.Errorf("length %d, want at least %d", len(payload)+4, hmacSize+4)
	}
	mac, user := payload[:hmacSize], payload[hmacSize:]
	if d.opts.Passwords == nil {
		if d.opts.SecurityLevel == None {
			// Nothing to verify with: accepted as unsigned data.
			return d.parse(rest, level, depth+1)
		}
		return fmt.Errorf("%w %q: no passwords to verify the signature with", ErrUnknownUser, user)
	}
	pw, ok := d.opts.Passwords.Password(string(user))
	if !ok {
		return fmt.Errorf("%w %q in signature", ErrUnknownUser, user)
	}
	h := hmac.New(sha256.New, []byte(pw))
	h.Write(user)
	h.Write(rest)
	if !hmac.Equal(h.Sum(nil), mac) {
		return fmt.Errorf("%w (user %q)", ErrSignature, user)
	}
	return d.parse(rest, max(level, Sign), depth+1)
}

func (d *packetDecoder) encrypted(payload []byte, depth int) error {
	if len(payload) < 2 {
		return errors.New("too short for a user name length")
	}
	ulen := int(binary.BigEndian.Uint16(payload))
	if len(payload) < 2+ulen+ivSize+checksumSize {
		return fmt.Errorf("length %d, too short for a %d-byte user name, IV and checksum", len(payload)+4, ulen)
	}
	user := payload[2 : 2+ulen]
	iv := payload[2+ulen : 2+ulen+ivSize]
	ciphertext := payload[2+ulen+ivSize:]
	if d.opts.Passwords == nil {
		return fmt.Errorf("%w %q: no passwords to decrypt with", ErrUnknownUser, user)
	}
	pw, ok := d.opts.Passwords.Password(string(user))
	if !ok {
		return fmt.Errorf("%w %q in encrypted part", ErrUnknownUser, user)
	}
	plain := make([]byte, len(ciphertext))
	newOFB(pw, iv).XORKeyStream(plain, ciphertext)
	sum := sha1.Sum(plain[checksumSize:])
	if subtle.ConstantTimeCompare(sum[:], plain[:checksumSize]) != 1 {
		return fmt.Errorf("%w (user %q)", ErrDecrypt, user)
	}
	return d.parse(plain[checksumSize:], Encrypt, depth+1)
}

func newOFB(password string, iv []byte) cipher.Stream {
	key := sha256.Sum256([]byte(password))
	block, _ := aes.NewCipher(key[:]) // a 32-byte key never fails
	return cipher.NewOFB(block, iv)
}

func partString(p []byte) (string, error) {
	if len(p) == 0 || p[len(p)-1] != 0 {
		return "", errors.New("string not terminated by NUL")
	}
	for i, c := range p {
		if c == 0 {
			return string(p[:i]), nil
		}
	}
	return "", nil // unreachable: the last byte is NUL
}

// countValues returns how many values parts b holds and how many values
// they declare, as far as b's part headers are whole and up to a signature
// part.
func countValues(b []byte) (parts, values int) {
	for off := 0; len(b)-off >= 4; {
		n := int(binary.BigEndian.Uint16(b[off+2:]))
		if n < 4 || n > len(b)-off {
			break
		}
		typ := binary.BigEndian.Uint16(b[off:])
		if typ == partSignature {
			break // what follows is parsed on its own
		}
		if typ == partValues && n >= 6 {
			if c := int(binary.BigEndian.Uint16(b[off+4:])); 6+9*c == n {
				parts++
				values += c
			}
		}
		off += n
	}
	return parts, values
}

// partValuesOf decodes a values part into the next values of *slab (which
// countValues sized), or into a new array when the slab is full.
func partValuesOf(p []byte, slab *[]Value) ([]Value, error) {
	if len(p) < 2 {
		return nil, errors.New("too short for a value count")
	}
	count := int(binary.BigEndian.Uint16(p))
	if len(p) != 2+9*count {
		return nil, fmt.Errorf("%d values need %d bytes, part has %d", count, 2+9*count, len(p))
	}
	types, data := p[2:2+count], p[2+count:]
	var values []Value
	if s := *slab; cap(s)-len(s) >= count {
		values = s[len(s) : len(s)+count : len(s)+count]
		*slab = s[:len(s)+count]
	} else {
		values = make([]Value, count)
	}
	for i, t := range types {
		raw := data[8*i : 8*i+8]
		switch DSType(t) {
		case Gauge:
			values[i] = GaugeValue(math.Float64frombits(binary.LittleEndian.Uint64(raw)))
		case Derive:
			values[i] = DeriveValue(int64(binary.BigEndian.Uint64(raw)))
		case Counter, Absolute:
			values[i] = Value{Type: DSType(t), U: binary.BigEndian.Uint64(raw)}
		default:
			return nil, fmt.Errorf("value %d: unknown data source type %d", i, t)
		}
	}
	return values, nil
}

// collectd's high-resolution times and intervals count 2^-30 seconds.
const cdFracBits = 30

func cdTime(v uint64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	sec, nsec := cdSplit(v)
	return time.Unix(sec, nsec)
}

func cdDuration(v uint64) time.Duration {
	sec, nsec := cdSplit(v)
	if sec > math.MaxInt64/int64(time.Second)-1 {
		return math.MaxInt64
	}
	return time.Duration(sec)*time.Second + time.Duration(nsec)
}

func cdSplit(v uint64) (sec, nsec int64) {
	sec = int64(v >> cdFracBits)
	frac := v & (1<<cdFracBits - 1)
	nsec = int64((frac*1e9 + 1<<(cdFracBits-1)) >> cdFracBits)
	if nsec >= 1e9 {
		sec, nsec = sec+1, nsec-1e9
	}
	return sec, nsec
}

func secondsTime(v uint64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.Unix(int64(min(v, math.MaxInt64>>1)), 0)
}

func secondsDuration(v uint64) time.Duration {
	if v > math.MaxInt64/uint64(time.Second) {
		return math.MaxInt64
	}
	return time.Duration(v) * time.Second
}

func toCDTime(t time.Time) uint64 {
	if t.IsZero() {
		return 0
	}
	sec, nsec := t.Unix(), int64(t.Nanosecond())
	if sec < 0 {
		return 0
	}
	return uint64(sec)<<cdFracBits | (uint64(nsec)<<cdFracBits+5e8)/1e9
}

func toCDDuration(d time.Duration) uint64 {
	if d <= 0 {
		return 0
	}
	sec, nsec := int64(d/time.Second), int64(d%time.Second)
	return uint64(sec)<<cdFracBits | (uint64(nsec)<<cdFracBits+5e8)/1e9
}

// EncodeOptions are the sender's settings for AppendPacket.
type EncodeOptions struct {
	// SecurityLevel None sends plain parts, Sign adds a signature part,
	// Encrypt wraps the parts in an encrypted part, as collectd's network
	// plugin does for its Server option of that name.
	SecurityLevel SecurityLevel
	// Username and Password sign or encrypt; required for Sign and Encrypt.
	Username, Password string
	// Rand is the source of the encryption's IV; nil means crypto/rand.
	Rand io.Reader
}

// AppendPacket appends one packet of collectd's binary network protocol
// holding vls and then notifications to dst, and returns the extended
// slice. Like collectd's network plugin it writes an identifier part, the
// time and the interval only when they differ from the previous value
// list's, times and intervals in 2^-30 s units (time_hr, interval_hr) and
// gauges as little-endian doubles. It does not split: the caller keeps a
// packet within its network's datagram size (collectd's default is 1452
// bytes). A string or value list too long for a part's 16-bit length, or
// a missing user name for Sign or Encrypt, is an error.
func AppendPacket(dst []byte, opts EncodeOptions, vls []ValueList, notifs []Notification) ([]byte, error) {
	if opts.SecurityLevel > Encrypt {
		return dst, fmt.Errorf("collectd: invalid security level %d", opts.SecurityLevel)
	}
	if opts.SecurityLevel != None && opts.Username == "" {
		return dst, fmt.Errorf("collectd: security level %v needs a user name", opts.SecurityLevel)
	}
	start := len(dst)
	var hdr int
	switch opts.SecurityLevel {
	case Sign:
		hdr = 4 + hmacSize + len(opts.Username)
	case Encrypt:
		hdr = 4 + 2 + len(opts.Username) + ivSize + checksumSize
	}
	if hdr > math.MaxUint16 {
		return dst, errors.New("collectd: user name too long")
	}
	dst = append(dst, make([]byte, hdr)...)
	body := len(dst)

	var e encoder
	e.buf = dst
	for i := range vls {
		vl := &vls[i]
		// collectd's order: host, time, interval, then the rest of the
		// identifier.
		e.str(partHost, vl.Host, &e.host)
		e.number(partTimeHR, toCDTime(vl.Time), &e.time)
		e.number(partIntervalHR, toCDDuration(vl.Interval), &e.interval)
		e.identifier(vl.Host, vl.Plugin, vl.PluginInstance, vl.Type, vl.TypeInstance)
		e.values(vl.Values)
	}
	for i := range notifs {
		n := &notifs[i]
		e.number(partTimeHR, toCDTime(n.Time), &e.time)
		e.number(partSeverity, uint64(int64(n.Severity)), &e.severity)
		e.identifier(n.Host, n.Plugin, n.PluginInstance, n.Type, n.TypeInstance)
		e.str(partMessage, n.Message, nil)
	}
	if e.err != nil {
		return dst[:start], e.err
	}
	dst = e.buf
	if len(dst)-start > math.MaxUint16 && opts.SecurityLevel == Encrypt {
		return dst[:start], fmt.Errorf("collectd: %d bytes too long for an encrypted part", len(dst)-start)
	}

	switch opts.SecurityLevel {
	case Sign:
		p := dst[start:body]
		binary.BigEndian.PutUint16(p, partSignature)
		binary.BigEndian.PutUint16(p[2:], uint16(hdr))
		copy(p[4+hmacSize:], opts.Username)
		h := hmac.New(sha256.New, []byte(opts.Password))
		h.Write([]byte(opts.Username))
		h.Write(dst[body:])
		copy(p[4:], h.Sum(nil))
	case Encrypt:
		p := dst[start:]
		binary.BigEndian.PutUint16(p, partEncryption)
		binary.BigEndian.PutUint16(p[2:], uint16(len(p)))
		binary.BigEndian.PutUint16(p[4:], uint16(len(opts.Username)))
		copy(p[6:], opts.Username)
		iv := p[6+len(opts.Username) : 6+len(opts.Username)+ivSize]
		r := opts.Rand
		if r == nil {
			r = rand.Reader
		}
		if _, err := io.ReadFull(r, iv); err != nil {
			return dst[:start], fmt.Errorf("collectd: encryption IV: %w", err)
		}
		plain := p[6+len(opts.Username)+ivSize:]
		sum := sha1.Sum(plain[checksumSize:])
		copy(plain, sum[:])
		newOFB(opts.Password, iv).XORKeyStream(plain, plain)
	}
	return dst, nil
}

type encoder struct {
	buf                                             []byte
	err                                             error
	host, plugin, pluginInstance, typ, typeInstance string
	time, interval, severity                        uint64
}

func (e *encoder) identifier(host, plugin, pluginInstance, typ, typeInstance string) {
	e.str(partHost, host, &e.host)
	e.str(partPlugin, plugin, &e.plugin)
	e.str(partPluginInstance, pluginInstance, &e.pluginInstance)
	e.str(partType, typ, &e.typ)
	e.str(partTypeInstance, typeInstance, &e.typeInstance)
}

// str writes a string part unless it equals *prev.
func (e *encoder) str(typ uint16, s string, prev *string) {
	if prev != nil {
		if *prev == s {
			return
		}
		*prev = s
	}
	n := 4 + len(s) + 1
	if n > math.MaxUint16 {
		if e.err == nil {
			e.err = fmt.Errorf("collectd: %s of %d bytes too long for a part", partNames[typ], len(s))
		}
		return
	}
	e.buf = binary.BigEndian.AppendUint16(e.buf, typ)
	e.buf = binary.BigEndian.AppendUint16(e.buf, uint16(n))
	e.buf = append(e.buf, s...)
	e.buf = append(e.buf, 0)
}

func (e *encoder) number(typ uint16, v uint64, prev *uint64) {
	if *prev == v {
		return
	}
	*prev = v
	e.buf = binary.BigEndian.AppendUint16(e.buf, typ)
	e.buf = binary.BigEndian.AppendUint16(e.buf, 12)
	e.buf = binary.BigEndian.AppendUint64(e.buf, v)
}

func (e *encoder) values(vs []Value) {
	n := 4 + 2 + 9*len(vs)
	if n > math.MaxUint16 {
		if e.err == nil {
			e.err = fmt.Errorf("collectd: %d values too many for a part", len(vs))
		}
		return
	}
	e.buf = binary.BigEndian.AppendUint16(e.buf, partValues)
	e.buf = binary.BigEndian.AppendUint16(e.buf, uint16(n))
	e.buf = binary.BigEndian.AppendUint16(e.buf, uint16(len(vs)))
	for i, v := range vs {
		if !v.Type.IsValid() && e.err == nil {
			e.err = fmt.Errorf("collectd: value %d: invalid data source type %d", i, v.Type)
		}
		e.buf = append(e.buf, byte(v.Type))
	}
	for _, v := range vs {
		switch v.Type {
		case Gauge:
			e.buf = binary.LittleEndian.AppendUint64(e.buf, math.Float64bits(v.F))
		case Derive:
			e.buf = binary.BigEndian.AppendUint64(e.buf, uint64(v.I))
		default:
			e.buf = binary.BigEndian.AppendUint64(e.buf, v.U)
		}
	}
}
