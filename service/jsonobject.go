package service

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/latchkey/latchkey"
)

// jsonObject checks that data, named what in the errors, is a JSON object of at most max
// bytes that both stores can hold, and returns it re-encoded, compact. Decoding and encoding
// again makes one form for both stores: invalid UTF-8 and lone surrogates become U+FFFD, a
// key given twice keeps its last value, as PostgreSQL's JSONB does, and a number with an
// exponent becomes its 64-bit float value (JSONB's numeric cannot hold 1e-20000; the Realm
// SDKs read numbers as doubles anyway), while other numbers keep their text. A NUL character
// is refused, since JSONB cannot hold one, and so is a number past a double's range.
func jsonObject(data json.RawMessage, what string, max int) ([]byte, error) {
	notObject := latchkey.Errorf(latchkey.EInvalid, "%s must be a JSON object", what)
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return nil, notObject
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return nil, notObject
	}
	if _, err := dec.Token(); err == nil {
		return nil, notObject // something after the object
	}
	if err := normalizeJSONValue(obj, what); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(obj); err != nil {
		return nil, notObject
	}
	out := bytes.TrimSuffix(b.Bytes(), []byte("\n"))
	if len(out) > max {
		return nil, latchkey.Errorf(latchkey.EInvalid, "%s must be at most %d bytes as compact JSON", what, max)
	}
	return out, nil
}

// normalizeJSONValue refuses NUL characters in the keys and strings of a decoded JSON
// container and rewrites its numbers with an exponent as jsonObject says.
func normalizeJSONValue(v any, what string) error {
	check := func(e any) (any, error) {
		switch e := e.(type) {
		case string:
			if strings.IndexByte(e, 0) >= 0 {
				return nil, latchkey.Errorf(latchkey.EInvalid, "%s must not contain a NUL character", what)
			}
		case json.Number:
			if !strings.ContainsAny(string(e), "eE") {
				return e, nil
			}
			f, err := strconv.ParseFloat(string(e), 64)
			if err != nil {
				return nil, latchkey.Errorf(latchkey.EInvalid, "%s numbers must fit a 64-bit float", what)
			}
			return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), nil
		case map[string]any, []any:
			return e, normalizeJSONValue(e, what)
		}
		return e, nil
	}
	var err error
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if strings.IndexByte(k, 0) >= 0 {
				return latchkey.Errorf(latchkey.EInvalid, "%s must not contain a NUL character", what)
			}
			if v[k], err = check(e); err != nil {
				return err
			}
		}
	case []any:
		for i, e := range v {
			if v[i], err = check(e); err != nil {
				return err
			}
		}
	}
	return nil
}
