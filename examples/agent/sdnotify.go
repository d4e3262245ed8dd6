package main

import (
	"fmt"
	"net"
	"os"
)

// sdNotify sends state (newline-separated VAR=value assignments such as
// "READY=1" or "RELOADING=1\nMONOTONIC_USEC=123") to the service manager as
// one datagram on the unix datagram socket named by $NOTIFY_SOCKET, as
// sd_notify(3) does. Without NOTIFY_SOCKET (not started by systemd, or not
// as Type=notify) it does nothing and returns nil.
//
// The socket name is an absolute path or, starting with "@", a Linux
// abstract socket name; the net package maps the leading "@" to the NUL
// byte of the abstract namespace. Other forms (relative paths, systemd's
// vsock: addresses) are refused with an error naming the value.
func sdNotify(state string) error {
	name := os.Getenv("NOTIFY_SOCKET")
	if name == "" {
		return nil
	}
	if name[0] != '/' && name[0] != '@' {
		return fmt.Errorf("NOTIFY_SOCKET=%q: want an absolute path or an abstract socket name starting with @", name)
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("notifying the service manager: %w", err)
	}
	defer conn.Close()
	n, err := conn.Write([]byte(state))
	if err != nil {
		return fmt.Errorf("notifying the service manager: %w", err)
	}
	if n != len(state) {
		return fmt.Errorf("notifying the service manager: sent %d of %d bytes", n, len(state))
	}
	return nil
}
