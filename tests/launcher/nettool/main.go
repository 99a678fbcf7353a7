// Command nettool is a static network probe handed into sandboxes by the
// launcher tests (the sandbox has no compiler and maybe no bash):
//
//	nettool tcp HOST:PORT   connect, print "OK <first line>" and exit 0, or "FAIL <error>" and exit 3
//	nettool unix PATH       the same for a unix socket (@name for the abstract namespace)
//	nettool ifaces          print the network interfaces, one a line
//	nettool flood ADDR N    open N TCP connections and keep them all open; print
//	                        "SERVED s CLOSED c FAILED f UNREACHED u" (a first
//	                        line read, an end of stream, a read that timed out,
//	                        a dial that failed), then "held",
//	                        then close them all when stdin has a line or ends
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: nettool tcp ADDR | unix PATH | ifaces")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "tcp", "unix":
		if len(os.Args) != 3 {
			os.Exit(2)
		}
		probe(os.Args[1], os.Args[2])
	case "flood":
		if len(os.Args) != 4 {
			os.Exit(2)
		}
		n, err := strconv.Atoi(os.Args[3])
		if err != nil {
			os.Exit(2)
		}
		flood(os.Args[2], n)
	case "ifaces":
		ifs, err := net.Interfaces()
		if err != nil {
			fmt.Println("FAIL", err)
			os.Exit(3)
		}
		for _, i := range ifs {
			fmt.Println(i.Name)
		}
	default:
		os.Exit(2)
	}
}

func flood(addr string, n int) {
	conns := make([]net.Conn, 0, n)
	failed, unreached := 0, 0
	for i := 0; i < n; i++ {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			// The listener's backlog overflowed: refused before any
			// accept, as a flood on a busy machine is.
			unreached++
			continue
		}
		conns = append(conns, c)
	}
	served, closed := 0, 0
	for _, c := range conns {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		line, err := bufio.NewReader(c).ReadString('\n')
		switch {
		case line != "":
			served++
		case err == io.EOF || errors.Is(err, syscall.ECONNRESET):
			closed++
		default:
			failed++
		}
	}
	fmt.Printf("SERVED %d CLOSED %d FAILED %d UNREACHED %d\nheld\n", served, closed, failed, unreached)
	bufio.NewReader(os.Stdin).ReadString('\n')
	for _, c := range conns {
		c.Close()
	}
}

func probe(network, addr string) {
	c, err := net.DialTimeout(network, addr, 5*time.Second)
	if err != nil {
		fmt.Println("FAIL", err)
		os.Exit(3)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil && line == "" {
		fmt.Println("OK-NOBANNER", err)
		return
	}
	fmt.Println("OK", strings.TrimSpace(line))
}
