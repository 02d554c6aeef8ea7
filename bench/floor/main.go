// Command floor is the load benchmark's floor: the least an HTTP JSON endpoint in Go costs
// on this machine. It reads the request body and answers every request with the same JSON
// body of --size bytes, shaped like a login reply, so that bench/run can report each
// Latchkey figure as a share of what plain net/http does in the same run.
package main

import (
	"encoding/json"
	"flag"
	"io"
	"log"
	"net/http"
	"strings"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:19091", "listen address")
	size := flag.Int("size", 800, "bytes of the JSON reply, as a login reply measured by bench/run")
	flag.Parse()

	body := reply(*size)
	srv := &http.Server{
		Addr: *addr,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, io.LimitReader(r.Body, 64<<10))
			w.Header().Set("Content-Type", "application/json")
			w.Write(body)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	log.Fatal(srv.ListenAndServe())
}

// reply returns a login-shaped JSON object of exactly size bytes (or the smallest such
// object, if size is smaller).
func reply(size int) []byte {
	v := map[string]string{"access_token": "", "refresh_token": "", "user_id": strings.Repeat("0", 24), "device_id": strings.Repeat("0", 24)}
	b, _ := json.Marshal(v)
	if pad := size - len(b); pad > 0 {
		v["access_token"] = strings.Repeat("a", pad/2)
		v["refresh_token"] = strings.Repeat("r", pad-pad/2)
		b, _ = json.Marshal(v)
	}
	return b
}
