// Command nettool is a static network probe handed into sandboxes by the
// launcher tests (the sandbox has no compiler and maybe no bash):
//
//	nettool tcp HOST:PORT   connect, print "OK <first line>" and exit 0, or "FAIL <error>" and exit 3
//	nettool unix PATH       the same for a unix socket (@name for the abstract namespace)
//	nettool ifaces          print the network interfaces, one a line
package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strings"
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
