package dynamocache

import (
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// canonical renders a primary key so that two keys that name the same item
// render the same and two that do not never do: attributes sorted by name,
// strings quoted, numbers normalised (DynamoDB holds 1, 1.0 and 1e0 as one
// number), binary in hex. {"pk": S "u#1", "sk": N "2.50"} renders as
// pk="u#1",sk=2.5. short is the values alone, joined by "/": the entry's
// default short name. shape is the names and types alone: keys of one
// table's schema share it.
func canonical(key map[string]types.AttributeValue) (canon, short, shape string, err error) {
	if len(key) == 0 {
		return "", "", "", errors.New("the key has no attributes")
	}
	var b, s, sh strings.Builder
	for i, name := range slices.Sorted(maps.Keys(key)) {
		if i > 0 {
			b.WriteByte(',')
			s.WriteByte('/')
		}
		if plainName(name) {
			b.WriteString(name)
		} else {
			b.WriteString(strconv.Quote(name))
		}
		b.WriteByte('=')
		sh.WriteString(strconv.Quote(name))
		switch v := key[name].(type) {
		case *types.AttributeValueMemberS:
			if v.Value == "" {
				return "", "", "", fmt.Errorf("key attribute %q is an empty string; DynamoDB refuses empty key values", name)
			}
			b.WriteString(strconv.Quote(v.Value))
			s.WriteString(v.Value)
			sh.WriteString("S")
		case *types.AttributeValueMemberN:
			n, err := normalNumber(v.Value)
			if err != nil {
				return "", "", "", fmt.Errorf("key attribute %q: %w", name, err)
			}
			b.WriteString(n)
			s.WriteString(n)
			sh.WriteString("N")
		case *types.AttributeValueMemberB:
			if len(v.Value) == 0 {
				return "", "", "", fmt.Errorf("key attribute %q is empty binary; DynamoDB refuses empty key values", name)
			}
			x := "0x" + hex.EncodeToString(v.Value)
			b.WriteString(x)
			s.WriteString(x)
			sh.WriteString("B")
		default:
			return "", "", "", fmt.Errorf("key attribute %q is %s; a key attribute is a string, a number or binary", name, typeName(v))
		}
	}
	return b.String(), s.String(), sh.String(), nil
}

func plainName(name string) bool {
	if name == "" {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

// normalNumber returns the shortest plain decimal of a DynamoDB number.
func normalNumber(s string) (string, error) {
	var r big.Rat
	if _, ok := r.SetString(strings.TrimSpace(s)); !ok {
		return "", fmt.Errorf("%q is not a number", s)
	}
	if r.IsInt() {
		return r.Num().String(), nil
	}
	// A decimal's denominator divides a power of ten: find the fewest
	// decimal places that hold it exactly (DynamoDB keeps 38 digits, and
	// exponents down to -130).
	ten := big.NewInt(10)
	d := new(big.Int).Set(r.Denom())
	places := 0
	for ; places < 200; places++ {
		if new(big.Int).Mod(new(big.Int).Exp(ten, big.NewInt(int64(places)), nil), d).Sign() == 0 {
			break
		}
	}
	return r.FloatString(places), nil
}

func typeName(v types.AttributeValue) string {
	switch v.(type) {
	case *types.AttributeValueMemberS:
		return "a string (S)"
	case *types.AttributeValueMemberN:
		return "a number (N)"
	case *types.AttributeValueMemberB:
		return "binary (B)"
	case *types.AttributeValueMemberBOOL:
		return "a boolean (BOOL)"
	case *types.AttributeValueMemberNULL:
		return "null (NULL)"
	case *types.AttributeValueMemberM:
		return "a map (M)"
	case *types.AttributeValueMemberL:
		return "a list (L)"
	case *types.AttributeValueMemberSS:
		return "a string set (SS)"
	case *types.AttributeValueMemberNS:
		return "a number set (NS)"
	case *types.AttributeValueMemberBS:
		return "a binary set (BS)"
	case nil:
		return "missing"
	}
	return fmt.Sprintf("%T", v)
}

// itemSize estimates an item's size as DynamoDB counts it: names and
// values in bytes, numbers about one byte per two digits.
func itemSize(m map[string]types.AttributeValue) int64 {
	var n int64
	for k, v := range m {
		n += int64(len(k)) + valueSize(v)
	}
	return n
}

func valueSize(v types.AttributeValue) int64 {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return int64(len(v.Value))
	case *types.AttributeValueMemberN:
		return int64(len(v.Value)+1)/2 + 1
	case *types.AttributeValueMemberB:
		return int64(len(v.Value))
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberSS:
		var n int64
		for _, s := range v.Value {
			n += int64(len(s))
		}
		return n
	case *types.AttributeValueMemberNS:
		var n int64
		for _, s := range v.Value {
			n += int64(len(s)+1)/2 + 1
		}
		return n
	case *types.AttributeValueMemberBS:
		var n int64
		for _, b := range v.Value {
			n += int64(len(b))
		}
		return n
	case *types.AttributeValueMemberM:
		return 3 + itemSize(v.Value)
	case *types.AttributeValueMemberL:
		n := int64(3)
		for _, e := range v.Value {
			n += 1 + valueSize(e)
		}
		return n
	}
	return 0
}
