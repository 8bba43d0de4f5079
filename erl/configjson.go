package erl

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// renamedKeys maps the config keys of older erlgo versions, which wrote the objective's keys
// under their Go names, to today's: every key is snake_case.
var renamedKeys = map[string]map[string]string{
	"objective": {"ClipLow": "clip_low", "ClipHigh": "clip_high", "KLCoef": "kl_coef",
		"DistillCoef": "distill_coef", "DistillISClip": "distill_is_clip"},
}

// addedKeys are keys added to a section of config.json after erlgo had written the section
// whole, where today's default is not the behaviour of the erlgo before them. A section that
// holds every key of before and not key was written by that erlgo (or in its image), and key
// takes value, that erlgo's behaviour, rather than the default: a run or a config file of an
// older erlgo trains as it did.
var addedKeys = []struct {
	section, key string
	before       []string
	value        json.RawMessage
}{
	{"weights", "hindsight_retry", []string{"first", "second", "reflection", "distill"}, json.RawMessage("0")},
}

// DecodeConfig decodes a config written as JSON, the keys of config.json, over cfg: a config
// file's (after YAML is turned into JSON) or a checkpoint's. Keys it leaves out keep cfg's
// values, except that the switches follow an "algo" the JSON sets unless it sets "switches"
// too, and that a section written whole by an older erlgo, without a key added since, gives
// that key the older erlgo's behaviour (addedKeys: weights naming first, second, reflection
// and distill but not hindsight_retry have no hindsight retries). An unknown key, or a value
// of the wrong kind, is an error that names the key. The keys of older erlgo versions
// (objective.ClipLow and the like) are accepted: renamed lists them, each as "old → new", for
// a deprecation message.
func DecodeConfig(js []byte, cfg *Config) (renamed []string, err error) {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(js, &keys); err != nil {
		return nil, configError(js, err)
	}
	if keys == nil {
		return nil, errors.New("the config is not an object of keys and values")
	}
	for section, names := range renamedKeys {
		raw, ok := keys[section]
		if !ok {
			continue
		}
		var sub map[string]json.RawMessage
		if json.Unmarshal(raw, &sub) != nil {
			continue // not an object: decoding below says so
		}
		for old, now := range names {
			if v, ok := sub[old]; ok {
				if _, both := sub[now]; both {
					return nil, fmt.Errorf("%s.%s and %s.%s are the same setting (the first its old name): give one", section, old, section, now)
				}
				delete(sub, old)
				sub[now] = v
				renamed = append(renamed, fmt.Sprintf("%s.%s → %s.%s", section, old, section, now))
			}
		}
		if keys[section], err = json.Marshal(sub); err != nil {
			return nil, err
		}
	}
	slices.Sort(renamed)
	for _, a := range addedKeys {
		var sub map[string]json.RawMessage
		if json.Unmarshal(keys[a.section], &sub) != nil || sub == nil {
			continue // absent, or not an object: decoding below says so
		}
		if _, ok := sub[a.key]; ok || !hasAll(sub, a.before) {
			continue
		}
		sub[a.key] = a.value
		if keys[a.section], err = json.Marshal(sub); err != nil {
			return nil, err
		}
	}
	if _, ok := keys["switches"]; !ok {
		if a, ok := keys["algo"]; ok { // switches follow the algorithm unless the config sets them
			var algo string
			if err := json.Unmarshal(a, &algo); err != nil {
				return nil, fmt.Errorf("algo: %s where the name of an algorithm is wanted", jsonKind(a))
			}
			sw, err := AlgoSwitches(algo)
			if err != nil {
				return nil, err
			}
			cfg.Switches = sw
		}
	}
	if js, err = json.Marshal(keys); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(cfg); err != nil {
		return nil, configError(js, err)
	}
	return renamed, nil
}

// hasAll reports whether obj has every one of keys.
func hasAll(obj map[string]json.RawMessage, keys []string) bool {
	for _, k := range keys {
		if _, ok := obj[k]; !ok {
			return false
		}
	}
	return true
}

// configError rewrites an error of encoding/json about the config js in the config's terms:
// its keys and the kinds of value they take, with no mention of JSON or Go.
func configError(js []byte, err error) error {
	var syntax *json.SyntaxError
	var kind *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		line := 1 + bytes.Count(js[:syntax.Offset], []byte("\n"))
		col := int(syntax.Offset) - bytes.LastIndexByte(js[:syntax.Offset], '\n') - 1
		return fmt.Errorf("line %d, column %d: %s", line, col, syntax)
	case errors.As(err, &kind):
		if kind.Field == "" {
			return errors.New("the config is not an object of keys and values")
		}
		if strings.HasPrefix(kind.Value, "number ") && kind.Type.Kind() >= reflect.Int && kind.Type.Kind() <= reflect.Uint64 {
			return fmt.Errorf("%s: %s is not a whole number", kind.Field, strings.TrimPrefix(kind.Value, "number "))
		}
		return fmt.Errorf("%s: %s where %s is wanted", kind.Field, article(kind.Value), wanted(kind.Type))
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return fmt.Errorf("unknown key %s", name)
	}
	return err
}

// wanted names the kind of value a setting of type t takes.
func wanted(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "text"
	case reflect.Struct:
		return "keys and values"
	}
	return t.String()
}

// article puts an article before the kind of a JSON value, as encoding/json names it.
func article(kind string) string {
	switch kind {
	case "object", "array":
		return "an " + kind
	case "bool":
		return "true or false"
	case "string":
		return "text"
	}
	return "a " + kind
}

// jsonKind names the kind of the JSON value raw.
func jsonKind(raw json.RawMessage) string {
	switch t := bytes.TrimSpace(raw); {
	case len(t) == 0:
		return "nothing"
	case t[0] == '{':
		return "keys and values"
	case t[0] == '[':
		return "a list"
	case t[0] == '"':
		return "text"
	case t[0] == 't' || t[0] == 'f':
		return "true or false"
	case t[0] == 'n':
		return "null"
	}
	return "a number"
}
