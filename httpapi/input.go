package httpapi

import (
	"net/http"
	"reflect"

	"github.com/latchkey/latchkey"
)

// checkURL refuses a request whose path or query is not text (latchkey.IsText): a path as
// an unknown route, a query as a bad request. JSON bodies are checked as they are decoded.
func checkURL(r *http.Request) error {
	if !latchkey.IsText(r.URL.Path) {
		return latchkey.Errorf(latchkey.ENoRoute, "no route for %s %s", r.Method, r.URL.Path)
	}
	for name, values := range r.URL.Query() {
		for _, v := range append(values, name) {
			if !latchkey.IsText(v) {
				return latchkey.Errorf(latchkey.EBadRequest, "query parameters must be UTF-8 text")
			}
		}
	}
	return nil
}

// hasNUL reports whether any string in a decoded body is not text (latchkey.IsText), which
// there means it holds NUL ("\u0000" in JSON): encoding/json replaces invalid UTF-8.
func hasNUL(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.String:
		return !latchkey.IsText(v.String())
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
