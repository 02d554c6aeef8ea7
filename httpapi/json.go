package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"

	"github.com/latchkey/latchkey"
)

// maxBodyBytes is the largest request body Latchkey reads.
const maxBodyBytes = 64 << 10

// writeJSON writes v with the exact content type realm-core needs to read a body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"error":"internal server error","error_code":"InternalServerError"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
}

// writeResult answers with conv(v), or with err.
func writeResult[T, R any](s *Server, w http.ResponseWriter, r *http.Request, v T, err error, conv func(T) R) {
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, conv(v))
}

// writeList answers a listing with every item through conv (an empty array, never null), or
// with err.
func writeList[T, R any](s *Server, w http.ResponseWriter, r *http.Request, items []T, err error, conv func(T) R) {
	if err != nil {
		s.Error(w, r, err)
		return
	}
	resp := make([]R, 0, len(items))
	for _, it := range items {
		resp = append(resp, conv(it))
	}
	writeJSON(w, http.StatusOK, resp)
}

// writeEmpty writes a success without a body, and so without a Content-Type.
func writeEmpty(w http.ResponseWriter, status int) {
	w.Header().Del("Content-Type")
	w.WriteHeader(status)
}

// decode reads the JSON body into v. An empty body leaves v as it is; unknown fields are
// ignored, as SDKs send more than a server reads.
func decode(r *http.Request, v any) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	return decodeBytes(body, v)
}

// readBody reads a request's body, up to the server's limit.
func readBody(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, errBodyTooLarge()
		}
		return nil, latchkey.Errorf(latchkey.EBadRequest, "could not read request body")
	}
	return body, nil
}

// decodeBytes is decode for a body already read.
func decodeBytes(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			if typeErr.Field == "" {
				return latchkey.Errorf(latchkey.EBadRequest, "request body must be a JSON %s", strings.TrimPrefix(strings.TrimPrefix(jsonKind(typeErr.Type.Kind().String()), "a "), "an "))
			}
			return latchkey.Errorf(latchkey.EBadRequest, "invalid JSON: %q must be %s", typeErr.Field, jsonKind(typeErr.Type.Kind().String()))
		}
		return latchkey.Errorf(latchkey.EBadRequest, "malformed JSON body")
	}
	if hasNUL(reflect.ValueOf(v)) {
		return latchkey.Errorf(latchkey.EBadRequest, "invalid JSON: strings may not contain NUL characters")
	}
	return nil
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "struct", "map":
		return "an object"
	case "slice", "array":
		return "an array"
	}
	return "a number"
}

func errBodyTooLarge() error {
	return latchkey.Errorf(latchkey.ETooLarge, "request body too large: the limit is %d KiB", maxBodyBytes>>10)
}

// optionalString is a JSON value that must be a string if present; it lets a handler tell
// "missing" from "wrong type" for fields with their own error texts.
type optionalString struct {
	Value string
	Set   bool // present and a string
	Bad   bool // present and not a string
}

func (o *optionalString) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if err := json.Unmarshal(b, &o.Value); err != nil {
		o.Bad = true
		return nil
	}
	o.Set = true
	return nil
}
