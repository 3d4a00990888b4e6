package clientip_test

import (
	"fmt"
	"log"
	"net/http/httptest"

	"github.com/tetherhq/tether/clientip"
)

// A server behind a load balancer in 10.0.0.0/8 believes the headers the
// load balancer sets, and only those.
func Example() {
	trust, err := clientip.Parse("10.0.0.0/8")
	if err != nil {
		log.Fatal(err)
	}
	res := clientip.New(trust)

	// Through the load balancer: the client put a fake address first.
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.0.0.2:51000"
	r.Header.Set("X-Forwarded-For", "6.6.6.6, 198.51.100.7")
	r.Header.Set("X-Forwarded-Proto", "https")
	fmt.Println(res.ClientIP(r), res.Scheme(r), res.Trusted(r))

	// Straight from the internet: the same headers are ignored.
	r.RemoteAddr = "203.0.113.9:40000"
	fmt.Println(res.ClientIP(r), res.Scheme(r), res.Trusted(r))
	// Output:
	// 198.51.100.7 https true
	// 203.0.113.9 http false
}

func ExampleParse() {
	for _, s := range []string{"", "2", "10.0.0.0/8, fd00::/8", "proxy.local"} {
		t, err := clientip.Parse(s)
		fmt.Printf("%q: hops=%d networks=%v err=%v\n", s, t.Hops, t.Networks, err)
	}
	// Output:
	// "": hops=0 networks=[] err=<nil>
	// "2": hops=2 networks=[] err=<nil>
	// "10.0.0.0/8, fd00::/8": hops=0 networks=[10.0.0.0/8 fd00::/8] err=<nil>
	// "proxy.local": hops=0 networks=[] err="proxy.local" is neither a hop count, an IP address nor a CIDR network (want e.g. 1 or 10.0.0.0/8,192.168.1.10)
}
