package collectd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/collectkit/collectkit/point"
)

// DefaultAddr is collectd's network port on the loopback interface.
const DefaultAddr = "127.0.0.1:25826"

// Server receives collectd's binary network protocol over UDP, as the
// network plugin's <Listen> block does, and delivers value lists as
// metric points and notifications as keyevent points to a Sink.
//
// Points are delivered in batches: one point.Batch of category metric and
// one of category keyevent, each with Input "collectd" (or Input), once
// MaxBatch points are waiting or FlushDelay after the first of them
// arrived. The Sink is called from the reading goroutine, so a slow Sink
// delays reading, and the kernel drops datagrams beyond its socket buffer,
// as it does for collectd. A packet that does not decode, data refused by
// the security level, a value list that does not match its type and a Sink
// error are logged (with the sender's address for a packet) and never stop
// the server.
//
// Set the fields before calling ListenPacket or Run and do not change them
// afterwards.
type Server struct {
	// Addr is the UDP address to listen on; empty means DefaultAddr.
	// Port 0 picks a free port (see LocalAddr).
	Addr string
	// SecurityLevel and Passwords are DecodePacket's options.
	SecurityLevel SecurityLevel
	Passwords     Passwords
	// TypesDB names the data sources of value lists. Nil means
	// LoadTypesDB(DefaultTypesDB), loaded by ListenPacket or Run.
	TypesDB *TypesDB
	// Sink receives the points. Nil discards them.
	Sink point.Sink
	// Logger logs bad packets and Sink errors; nil discards.
	Logger *slog.Logger
	// Input is the Batch's Input; empty means "collectd".
	Input string
	// MaxBatch is the most points one Batch holds; 0 means 1000.
	MaxBatch int
	// FlushDelay is how long the first waiting point waits for others to
	// join its Batch; 0 means 100ms, a negative value means no waiting
	// (one Batch per packet).
	FlushDelay time.Duration

	mu   sync.Mutex
	conn net.PacketConn
	db   *TypesDB
	ran  bool
}

// ListenPacket opens the UDP socket (and loads the default TypesDB if
// TypesDB is nil), so that LocalAddr is known before Run. Run calls it when it
// was not called.
func (s *Server) ListenPacket(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil {
		return errors.New("collectd: server already listening")
	}
	db := s.TypesDB
	if db == nil {
		var err error
		if db, err = LoadTypesDB(); err != nil {
			return err
		}
	}
	addr := s.Addr
	if addr == "" {
		addr = DefaultAddr
	}
	var lc net.ListenConfig
	conn, err := lc.ListenPacket(ctx, "udp", addr)
	if err != nil {
		return fmt.Errorf("collectd: %w", err)
	}
	s.conn, s.db = conn, db
	return nil
}

// LocalAddr returns the address the server listens on, or nil before
// ListenPacket.
func (s *Server) LocalAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		return nil
	}
	return s.conn.LocalAddr()
}

// Run receives packets until ctx is done, then delivers what is waiting,
// closes the socket and returns nil. It returns an error only when it
// cannot start: the socket cannot be opened or the TypesDB not loaded.
// Run may be called once; a second call returns an error.
func (s *Server) Run(ctx context.Context) error {
	s.mu.Lock()
	listening, ran := s.conn != nil, s.ran
	s.ran = true
	s.mu.Unlock()
	if ran {
		return errors.New("collectd: server already ran")
	}
	if !listening {
		if err := s.ListenPacket(ctx); err != nil {
			return err
		}
	}
	s.mu.Lock()
	conn, db := s.conn, s.db
	s.mu.Unlock()

	stop := context.AfterFunc(ctx, func() { _ = conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	defer conn.Close()

	r := receiver{
		s: s, db: db, log: s.Logger,
		opts:     DecodeOptions{SecurityLevel: s.SecurityLevel, Passwords: s.Passwords},
		sink:     s.Sink,
		maxBatch: s.MaxBatch,
		delay:    s.FlushDelay,
		input:    s.Input,
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.sink == nil {
		r.sink = point.Discard()
	}
	if r.maxBatch <= 0 {
		r.maxBatch = 1000
	}
	if r.delay == 0 {
		r.delay = 100 * time.Millisecond
	}
	if r.input == "" {
		r.input = "collectd"
	}
	r.run(ctx, conn)
	// Deliver what is waiting even though ctx is done, within a bound.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	r.flush(fctx)
	return nil
}

type receiver struct {
	s        *Server
	db       *TypesDB
	log      *slog.Logger
	opts     DecodeOptions
	sink     point.Sink
	maxBatch int
	delay    time.Duration
	input    string

	metrics, events []point.Point
	since           time.Time // when the first waiting point arrived

	// Bad-packet logging is limited to logBurst messages per second.
	logWindow  time.Time
	logged     int
	suppressed int
}

const logBurst = 10

func (r *receiver) run(ctx context.Context, conn net.PacketConn) {
	buf := make([]byte, 65536)
	for ctx.Err() == nil {
		if r.pending() > 0 && r.delay > 0 {
			_ = conn.SetReadDeadline(r.since.Add(r.delay))
		} else {
			_ = conn.SetReadDeadline(time.Time{})
		}
		if ctx.Err() != nil { // the AfterFunc's deadline may have been overwritten
			return
		}
		n, from, err := conn.ReadFrom(buf)
		if n > 0 {
			r.packet(ctx, buf[:n], from)
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				if ctx.Err() == nil {
					r.flush(ctx)
				}
				continue
			}
			if ctx.Err() != nil {
				return
			}
			r.log.Error("collectd: reading UDP", "addr", conn.LocalAddr().String(), "err", err)
			// Not a timeout: the socket is unusable or the error passing
			// (ICMP); pause briefly instead of spinning.
			select {
			case <-ctx.Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
}

func (r *receiver) pending() int { return len(r.metrics) + len(r.events) }

func (r *receiver) packet(ctx context.Context, b []byte, from net.Addr) {
	vls, notifs, err := DecodePacket(b, r.opts)
	if err != nil {
		r.badPacket(from, err)
	}
	if len(vls)+len(notifs) == 0 {
		return
	}
	if r.pending() == 0 {
		r.since = time.Now()
	}
	var merr error
	r.metrics, merr = AppendPoints(r.metrics, r.db, vls...)
	if merr != nil {
		r.badPacket(from, fmt.Errorf("value lists not mapped: %w", merr))
	}
	for _, n := range notifs {
		r.events = append(r.events, NotificationPoint(n))
	}
	if r.pending() >= r.maxBatch || r.delay < 0 {
		r.flush(ctx)
	}
}

func (r *receiver) badPacket(from net.Addr, err error) {
	now := time.Now()
	if now.Sub(r.logWindow) >= time.Second {
		if r.suppressed > 0 {
			r.log.Warn("collectd: bad packets not logged", "count", r.suppressed)
		}
		r.logWindow, r.logged, r.suppressed = now, 0, 0
	}
	if r.logged >= logBurst {
		r.suppressed++
		return
	}
	r.logged++
	src := ""
	if from != nil {
		src = from.String()
	}
	r.log.Warn("collectd: bad network packet", "source", src, "err", err)
}

func (r *receiver) flush(ctx context.Context) {
	r.deliver(ctx, point.Metric, r.metrics)
	r.deliver(ctx, point.KeyEvent, r.events)
	clear(r.metrics)
	clear(r.events)
	r.metrics, r.events = r.metrics[:0], r.events[:0]
}

func (r *receiver) deliver(ctx context.Context, cat point.Category, pts []point.Point) {
	for len(pts) > 0 {
		n := min(len(pts), r.maxBatch)
		if err := r.sink.Write(ctx, point.Batch{Category: cat, Input: r.input, Points: pts[:n]}); err != nil {
			r.log.Error("collectd: sink refused points", "category", cat.String(), "points", n, "err", err)
		}
		pts = pts[n:]
	}
}
