package httpapi

import (
	"net/http"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/latchkey/latchkey"
)

// text reports whether s is text every store can hold and search: valid UTF-8 without NUL.
// PostgreSQL answers either with an error, which would be a 500.
func text(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// checkQuery refuses a query string whose names or values are not text.
func checkQuery(r *http.Request) error {
	for name, values := range r.URL.Query() {
		for _, v := range append(values, name) {
			if !text(v) {
				return latchkey.Errorf(latchkey.EBadRequest, "query parameters must be UTF-8 text")
			}
		}
	}
	return nil
}

// hasNUL reports whether any string in a decoded body holds NUL ("\u0000" in JSON). Invalid
// UTF-8 cannot occur there: encoding/json replaces it.
func hasNUL(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.String:
		return strings.ContainsRune(v.String(), 0)
	case reflect.Pointer, reflect.Interface:
		return !v.IsNil() && hasNUL(v.Elem())
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() && hasNUL(v.Field(i)) {
				return true
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return false // raw JSON, read again by its handler
		}
		for i := range v.Len() {
			if hasNUL(v.Index(i)) {
				return true
			}
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			if hasNUL(it.Key()) || hasNUL(it.Value()) {
				return true
			}
		}
	}
	return false
}
