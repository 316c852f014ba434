// Command certs makes the throw-away certificates of the README's TLS
// walkthrough: a CA and, per name, a certificate that is both a server
// certificate for the given IPs and a client certificate.
//
//	go run ./hack/certs -out /tmp/ikm-certs -names m1,m2,m3,cli [-ip 127.0.0.1] [-ca ca]
//
// Writes <out>/ca.pem and <out>/<name>.pem, <out>/<name>-key.pem.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/infrakit-manager/manager/internal/certgen"
	"github.com/infrakit-manager/manager/internal/field"
)

func main() {
	o := certgen.DefaultOptions()
	names := flag.String("names", "m1,m2,m3,cli", "comma-separated certificate names")
	ips := flag.String("ip", "127.0.0.1", "comma-separated IP addresses the certificates are valid for")
	flag.StringVar(&o.Dir, "out", "", "output directory (required)")
	flag.StringVar(&o.CAName, "ca", o.CAName, "CA name and file prefix")
	flag.DurationVar(&o.Valid, "valid", o.Valid, "validity")
	flag.Parse()
	o.Names = strings.Split(*names, ",")
	o.IPs = nil
	for _, s := range strings.Split(*ips, ",") {
		ip := net.ParseIP(strings.TrimSpace(s))
		if ip == nil {
			fmt.Fprintf(os.Stderr, "certs: -ip %q is not an IP address\n", s)
			os.Exit(2)
		}
		o.IPs = append(o.IPs, ip)
	}
	if err := certgen.Write(o); err != nil {
		err = field.Rename(err, map[string]string{"Dir": "-out", "CAName": "-ca", "Names": "-names", "Valid": "-valid"})
		fmt.Fprintln(os.Stderr, "certs:", err)
		os.Exit(1)
	}
	fmt.Printf("wrote %s.pem and %s (.pem, -key.pem) in %s\n", o.CAName, strings.Join(o.Names, ", "), o.Dir)
}
