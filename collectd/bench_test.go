package collectd

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/collectkit/collectkit/point"
)

func BenchmarkDecodePacket(b *testing.B) {
	for _, name := range []string{"none", "sign", "encrypt"} {
		b.Run(name, func(b *testing.B) {
			packet := readTestdata(b, "network_"+name+"_values.bin")
			opts := DecodeOptions{Passwords: testPasswords}
			b.ReportAllocs()
			b.SetBytes(int64(len(packet)))
			for b.Loop() {
				vls, _, err := DecodePacket(packet, opts)
				if err != nil || len(vls) != 8 {
					b.Fatal(len(vls), err)
				}
			}
		})
	}
	// A full datagram (collectd's default 1452 bytes) of many small value
	// lists, the common case of a busy sender.
	b.Run("full", func(b *testing.B) {
		packet, n := fullPacket(b)
		b.ReportAllocs()
		b.SetBytes(int64(len(packet)))
		for b.Loop() {
			vls, _, err := DecodePacket(packet, DecodeOptions{})
			if err != nil || len(vls) != n {
				b.Fatal(len(vls), err)
			}
		}
	})
}

// fullPacket returns a packet of at most 1452 bytes of if_octets value
// lists, as collectd's interface plugin sends them.
func fullPacket(b *testing.B) ([]byte, int) {
	var vls []ValueList
	var packet []byte
	for i := 0; ; i++ {
		next := append(vls, ValueList{Host: "web01.example.com", Plugin: "interface", PluginInstance: fmt.Sprintf("eth%d", i),
			Type: "if_octets", Values: []Value{DeriveValue(int64(i) * 1000), DeriveValue(int64(i) * 2000)}})
		p, err := AppendPacket(nil, EncodeOptions{}, next, nil)
		if err != nil {
			b.Fatal(err)
		}
		if len(p) > 1452 {
			return packet, len(vls)
		}
		vls, packet = next, p
	}
}

func BenchmarkAppendPoints(b *testing.B) {
	requireFile(b, DefaultTypesDB)
	db, err := LoadTypesDB()
	if err != nil {
		b.Fatal(err)
	}
	packet, n := fullPacket(b)
	vls, _, err := DecodePacket(packet, DecodeOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	// Bytes are those of the packet the value lists came from, so the
	// figure compares with BenchmarkDecodePacket/full.
	b.SetBytes(int64(len(packet)))
	pts := make([]point.Point, 0, n)
	for b.Loop() {
		pts, err = AppendPoints(pts[:0], db, vls...)
		if err != nil || len(pts) != n {
			b.Fatal(len(pts), err)
		}
	}
}

func BenchmarkAppendPacket(b *testing.B) {
	vls := randomValueLists(rand.New(rand.NewPCG(3, 4)), 20)
	for _, level := range []SecurityLevel{None, Sign, Encrypt} {
		b.Run(level.String(), func(b *testing.B) {
			opts := EncodeOptions{SecurityLevel: level, Username: "u", Password: "p"}
			buf, err := AppendPacket(nil, opts, vls, nil)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(buf)))
			for b.Loop() {
				buf, err = AppendPacket(buf[:0], opts, vls, nil)
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecodeJSON(b *testing.B) {
	body := readTestdata(b, "write_http_values.json")
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		vls, _, err := DecodeJSON(body)
		if err != nil || len(vls) != 18 {
			b.Fatal(len(vls), err)
		}
	}
}
