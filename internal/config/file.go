package config

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxFileSize bounds the configuration file; a real one is a few kilobytes.
const maxFileSize = 1 << 20

// fileSettings is what a configuration file holds.
type fileSettings struct {
	// flat holds the single-value settings, as strings, by setting name
	// (the flag's: "data-dir").
	flat map[string]any
	// auth is the auth section, nil if the file has none.
	auth *authFile
	// events is the events section, nil if the file has none.
	events *eventsFile
	// warnings say which keys are spelt the deprecated way.
	warnings []string
}

// FileKey is the YAML key of a setting in a configuration file: its name
// in snake_case, as every key of the auth and events sections and of the
// API is ("data-dir" -> "data_dir").
func FileKey(name string) string { return strings.ReplaceAll(name, "-", "_") }

// readFile reads a YAML configuration file whose top level may hold only the
// flat keys known (setting names, written as FileKey), with single values,
// and the auth and events sections. A misspelt key, at any depth, is an
// error, not a silently ignored setting; so is a wrong shape. A key in the
// kebab-case that older versions read at the top level (data-dir) is still
// accepted, with a warning. Every problem found is returned together, as
// Errors, with the settings that were read; a file that cannot be read or
// parsed is a single error.
func readFile(path string, known []string) (fileSettings, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return fileSettings{}, fmt.Errorf("read configuration file: %w", err)
	}
	if len(b) > maxFileSize {
		return fileSettings{}, fmt.Errorf("configuration file %s: larger than %d bytes", path, maxFileSize)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		// A top level that is a list or a scalar fails to decode into a map.
		return fileSettings{}, fmt.Errorf("configuration file %s: %w", path, err)
	}
	fileKeys := make([]string, 0, len(known)+2)
	byFileKey := make(map[string]string, len(known))
	for _, k := range known {
		fileKeys = append(fileKeys, FileKey(k))
		byFileKey[FileKey(k)] = k
	}
	fileKeys = append(fileKeys, KeyAuth, KeyEvents)
	out := fileSettings{flat: make(map[string]any, len(doc))}
	var errs Errors
	in := func(err error) error { return fmt.Errorf("configuration file %s: %w", path, err) }
	sectionTypes := map[string]reflect.Type{KeyAuth: reflect.TypeFor[authFile](), KeyEvents: reflect.TypeFor[eventsFile]()}
	hasSection := false
	for _, k := range slices.Sorted(maps.Keys(doc)) {
		v := doc[k]
		if t, ok := sectionTypes[k]; ok {
			var shape Errors
			checkShape(v, t, k, &shape)
			for _, err := range shape {
				errs.add(in(err))
			}
			hasSection = hasSection || v != nil
			continue
		}
		name, ok := byFileKey[k]
		if !ok && slices.Contains(known, k) {
			// The kebab-case of older versions, beside snake_case
			// sections: read it, and say how to write it now.
			name = k
			if _, both := doc[FileKey(k)]; both {
				errs.add(in(fmt.Errorf("key %q is set twice, also as %q (deprecated); keep %q", FileKey(k), k, FileKey(k))))
				continue
			}
			out.warnings = append(out.warnings, fmt.Sprintf("configuration file %s: key %q is deprecated; write %q (keys are snake_case, as in the auth and events sections)", path, k, FileKey(k)))
		} else if !ok {
			errs.add(in(unknownKey(k, k, fileKeys)))
			continue
		}
		switch v := v.(type) {
		case nil:
			// "key:" with no value leaves the setting at its default.
		case string, bool, int, int64, uint64, float64:
			out.flat[name] = fmt.Sprint(v)
		default:
			errs.add(in(fmt.Errorf("key %q: want a single value, got %s", k, describe(v))))
		}
	}
	if hasSection {
		// checkShape has vetted every key; the strict decode is the
		// backstop, and reports wrong scalar types with line numbers.
		// It decodes what it can even then, so that the sections are
		// checked too when other keys are wrong; what checkShape found
		// it would only repeat.
		var sections struct {
			Auth   *authFile      `yaml:"auth"`
			Events *eventsFile    `yaml:"events"`
			Flat   map[string]any `yaml:",inline"`
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if err := dec.Decode(&sections); err != nil && len(errs) == 0 {
			errs.add(in(err))
		}
		out.auth, out.events = sections.Auth, sections.Events
	}
	return out, errs.err()
}

// unknownKey is the error for a key no setting takes: path locates it
// ("auth.identities[0].subjet"), known are the keys allowed beside it.
func unknownKey(path, key string, known []string) error {
	msg := fmt.Sprintf("unknown key %q", path)
	if s := suggest(key, known); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	return fmt.Errorf("%s; known keys: %s", msg, strings.Join(known, ", "))
}

// checkShape compares v, a YAML value decoded into any, with the type t it
// will be decoded into, and adds to errs an error naming the path of every
// mapping key no field of t takes, and of every value of the wrong shape
// (a list where a mapping is wanted, a mapping where a single value is).
// The YAML decoder's own errors name neither the path nor the keys that
// would fit. Types that decode themselves (UnmarshalYAML) are not looked
// into.
func checkShape(v any, t reflect.Type, path string, errs *Errors) {
	if v == nil || hasUnmarshalYAML(t) {
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		checkShape(v, t.Elem(), path, errs)
	case reflect.Struct:
		m, ok := mapping(v)
		if !ok {
			errs.add(fmt.Errorf("%s: want a mapping of keys, got %s", path, describe(v)))
			return
		}
		names, types := yamlFields(t)
		for _, k := range slices.Sorted(maps.Keys(m)) {
			i := slices.Index(names, k)
			if i < 0 {
				errs.add(unknownKey(path+"."+k, k, names))
				continue
			}
			checkShape(m[k], types[i], path+"."+k, errs)
		}
	case reflect.Slice, reflect.Array:
		l, ok := v.([]any)
		if !ok {
			errs.add(fmt.Errorf("%s: want a list, got %s", path, describe(v)))
			return
		}
		for i, e := range l {
			checkShape(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i), errs)
		}
	case reflect.Map, reflect.Interface:
		// Free-form; the decoder checks what it can.
	default:
		if _, ok := mapping(v); ok {
			errs.add(fmt.Errorf("%s: want a single value, got %s", path, describe(v)))
		} else if _, ok := v.([]any); ok {
			errs.add(fmt.Errorf("%s: want a single value, got %s", path, describe(v)))
		}
	}
}

// hasUnmarshalYAML reports whether t decodes itself, in either form of
// yaml's Unmarshaler.
func hasUnmarshalYAML(t reflect.Type) bool {
	_, ok := reflect.PointerTo(t).MethodByName("UnmarshalYAML")
	return ok
}

// yamlFields lists the keys a struct takes, in field order, as the yaml
// package names them: the tag's name, or the lower-cased field name;
// ",inline" structs contribute their own fields.
func yamlFields(t reflect.Type) (names []string, types []reflect.Type) {
	for f := range t.Fields() {
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		switch {
		case !f.IsExported() && !f.Anonymous, tag == "-":
			continue
		case slices.Contains(strings.Split(opts, ","), "inline") && f.Type.Kind() == reflect.Struct:
			n, ts := yamlFields(f.Type)
			names, types = append(names, n...), append(types, ts...)
			continue
		case name == "":
			name = strings.ToLower(f.Name)
		}
		names, types = append(names, name), append(types, f.Type)
	}
	return names, types
}

// mapping returns v as a map with string keys, if it is a YAML mapping.
func mapping(v any) (map[string]any, bool) {
	switch v := v.(type) {
	case map[string]any:
		return v, true
	case map[any]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[fmt.Sprint(k)] = e
		}
		return m, true
	}
	return nil, false
}

// describe names the shape of a YAML value for error messages.
func describe(v any) string {
	if _, ok := mapping(v); ok {
		return "a mapping"
	}
	if _, ok := v.([]any); ok {
		return "a list"
	}
	return fmt.Sprintf("%q", fmt.Sprint(v))
}

// suggest returns the known key closest to k, if it is close enough to be a
// typo (edit distance at most 2, with k in snake_case as every key is).
func suggest(k string, known []string) string {
	best, bestDist := "", 3
	for _, c := range known {
		if d := editDistance(FileKey(strings.ToLower(k)), c); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
