package ibus

import (
	"fmt"
	"reflect"

	"github.com/godbus/dbus/v5"
)

// godbus decodes a struct as []any and a variant holding one keeps that
// []any: encoded again, it would become an array of variants, not the
// struct the peer sent (IBusText in CommitText and SetSurroundingText is a
// struct in a variant). Retyping rebuilds each value as the Go type whose
// encoding is exactly the signature's (structs as reflect.StructOf types),
// so that what is relayed has the signature it arrived with, checked.

// maxVariantDepth bounds variants inside variants, which a signature does
// not bound (the D-Bus specification allows 64 levels of containers).
const maxVariantDepth = 32

// RetypeBody rebuilds a decoded message body for its signature sig.
func RetypeBody(sig string, body []any) ([]any, error) {
	out := make([]any, 0, len(body))
	rest := sig
	for i, v := range body {
		if rest == "" {
			return nil, fmt.Errorf("body has more values than signature %q", sig)
		}
		one, tail, err := nextType(rest)
		if err != nil {
			return nil, err
		}
		rest = tail
		rv, err := retype(one, reflect.ValueOf(v), 0)
		if err != nil {
			return nil, fmt.Errorf("argument %d: %w", i, err)
		}
		out = append(out, rv.Interface())
	}
	if rest != "" {
		return nil, fmt.Errorf("body has fewer values than signature %q", sig)
	}
	if got := dbus.SignatureOf(out...).String(); got != sig {
		return nil, fmt.Errorf("body retyped as %q, not %q", got, sig)
	}
	return out, nil
}

// nextType splits the first complete type off sig.
func nextType(sig string) (string, string, error) {
	if sig == "" {
		return "", "", fmt.Errorf("empty signature")
	}
	switch sig[0] {
	case 'a':
		one, rest, err := nextType(sig[1:])
		if err != nil {
			return "", "", err
		}
		return "a" + one, rest, nil
	case '(', '{':
		closing := byte(')')
		if sig[0] == '{' {
			closing = '}'
		}
		rest := sig[1:]
		for rest != "" && rest[0] != closing {
			_, tail, err := nextType(rest)
			if err != nil {
				return "", "", err
			}
			rest = tail
		}
		if rest == "" {
			return "", "", fmt.Errorf("unterminated %q in signature", sig[0])
		}
		n := len(sig) - len(rest) + 1
		return sig[:n], sig[n:], nil
	}
	if _, ok := basicTypes[sig[0]]; !ok {
		return "", "", fmt.Errorf("type %q is not relayed", sig[0])
	}
	return sig[:1], sig[1:], nil
}

// basicTypes are the Go types godbus decodes each basic type to. 'h' (a
// descriptor) is absent: no descriptor crosses the relay.
var basicTypes = map[byte]reflect.Type{
	'y': reflect.TypeOf(byte(0)),
	'b': reflect.TypeOf(false),
	'n': reflect.TypeOf(int16(0)),
	'q': reflect.TypeOf(uint16(0)),
	'i': reflect.TypeOf(int32(0)),
	'u': reflect.TypeOf(uint32(0)),
	'x': reflect.TypeOf(int64(0)),
	't': reflect.TypeOf(uint64(0)),
	'd': reflect.TypeOf(float64(0)),
	's': reflect.TypeOf(""),
	'o': reflect.TypeOf(dbus.ObjectPath("")),
	'g': reflect.TypeOf(dbus.Signature{}),
	'v': reflect.TypeOf(dbus.Variant{}),
}

// goType is the Go type whose godbus encoding has signature one.
func goType(one string) (reflect.Type, error) {
	switch one[0] {
	case 'a':
		if one[1] == '{' {
			k, rest, err := nextType(one[2 : len(one)-1])
			if err != nil {
				return nil, err
			}
			kt, err := goType(k)
			if err != nil {
				return nil, err
			}
			vt, err := goType(rest)
			if err != nil {
				return nil, err
			}
			return reflect.MapOf(kt, vt), nil
		}
		et, err := goType(one[1:])
		if err != nil {
			return nil, err
		}
		return reflect.SliceOf(et), nil
	case '(':
		var fields []reflect.StructField
		rest := one[1 : len(one)-1]
		for rest != "" {
			f, tail, err := nextType(rest)
			if err != nil {
				return nil, err
			}
			ft, err := goType(f)
			if err != nil {
				return nil, err
			}
			fields = append(fields, reflect.StructField{Name: fmt.Sprintf("F%d", len(fields)), Type: ft})
			rest = tail
		}
		if len(fields) == 0 {
			return nil, fmt.Errorf("empty struct")
		}
		return reflect.StructOf(fields), nil
	}
	t, ok := basicTypes[one[0]]
	if !ok {
		return nil, fmt.Errorf("type %q is not relayed", one[0])
	}
	return t, nil
}

// retype returns v as a value of goType(one).
func retype(one string, v reflect.Value, depth int) (reflect.Value, error) {
	for v.IsValid() && v.Kind() == reflect.Interface {
		v = v.Elem()
	}
	if !v.IsValid() {
		return reflect.Value{}, fmt.Errorf("missing value for %q", one)
	}
	t, err := goType(one)
	if err != nil {
		return reflect.Value{}, err
	}
	switch one[0] {
	case 'v':
		vr, ok := v.Interface().(dbus.Variant)
		if !ok {
			return reflect.Value{}, fmt.Errorf("want a variant, have %s", v.Type())
		}
		if depth >= maxVariantDepth {
			return reflect.Value{}, fmt.Errorf("variants nested too deep")
		}
		inner := vr.Signature().String()
		if one, rest, err := nextType(inner); err != nil || rest != "" || one == "" {
			return reflect.Value{}, fmt.Errorf("variant signature %q is not one type", inner)
		}
		iv, err := retype(inner, reflect.ValueOf(vr.Value()), depth+1)
		if err != nil {
			return reflect.Value{}, err
		}
		return reflect.ValueOf(dbus.MakeVariantWithSignature(iv.Interface(), vr.Signature())), nil
	case 'a':
		if one[1] == '{' {
			if v.Kind() != reflect.Map {
				return reflect.Value{}, fmt.Errorf("want a dictionary, have %s", v.Type())
			}
			k, val, _ := nextType(one[2 : len(one)-1])
			m := reflect.MakeMapWithSize(t, v.Len())
			it := v.MapRange()
			for it.Next() {
				kv, err := retype(k, it.Key(), depth)
				if err != nil {
					return reflect.Value{}, err
				}
				vv, err := retype(val, it.Value(), depth)
				if err != nil {
					return reflect.Value{}, err
				}
				m.SetMapIndex(kv, vv)
			}
			return m, nil
		}
		if v.Kind() != reflect.Slice && v.Kind() != reflect.Array {
			return reflect.Value{}, fmt.Errorf("want an array, have %s", v.Type())
		}
		s := reflect.MakeSlice(t, v.Len(), v.Len())
		for i := 0; i < v.Len(); i++ {
			ev, err := retype(one[1:], v.Index(i), depth)
			if err != nil {
				return reflect.Value{}, err
			}
			s.Index(i).Set(ev)
		}
		return s, nil
	case '(':
		if v.Kind() != reflect.Slice || v.Len() != t.NumField() {
			return reflect.Value{}, fmt.Errorf("want a struct of %d fields, have %s", t.NumField(), v.Type())
		}
		st := reflect.New(t).Elem()
		rest := one[1 : len(one)-1]
		for i := 0; i < t.NumField(); i++ {
			f, tail, _ := nextType(rest)
			rest = tail
			fv, err := retype(f, v.Index(i), depth)
			if err != nil {
				return reflect.Value{}, err
			}
			st.Field(i).Set(fv)
		}
		return st, nil
	}
	if v.Type() != t {
		return reflect.Value{}, fmt.Errorf("want %s, have %s", t, v.Type())
	}
	return v, nil
}
