// Command gotemplate-engine renders Go text/template jobs the way Argo CD's ApplicationSet
// controller does (applicationset/utils): text/template with sprig's generic function map minus
// env, expandenv and getHostByName, plus normalize, toYaml, fromYaml and fromYamlArray, and the
// goTemplateOptions applied with Template.Option. slugify is registered only to fail clearly.
//
// Protocol: one JSON document on stdin,
//
//	{"templates": ["...", ...], "data": [<any JSON>, ...],
//	 "jobs": [{"template": 0, "data": 0, "options": ["missingkey=error"], "yaml": false}, ...]}
//
// where a job names its template and data by index: a batch repeats an ApplicationSet's few
// templates and each parameter set's data many times, and each is sent and decoded once.
//
// and one JSON document on stdout, in job order,
//
//	{"results": [{"output": "..."} or {"value": <any JSON>} or {"error": "..."}, ...]}
//
// A job with "yaml": true answers the output read as YAML, the way Argo CD reads a rendered
// templatePatch (sigs.k8s.io/yaml's YAMLToJSON), as "value" instead of "output".
//
// A malformed request is reported on stderr with exit status 1; a template that fails (parse
// error, execution error, panicking function) fails only its own job.
//
// It is built in GOPATH mode from Debian's packages, so it imports only what Debian ships.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"text/template"

	// sprig v3.2.3: Debian installs it in github.com/Masterminds/sprig (no v3 directory), and
	// GOPATH mode resolves an import path to a directory, so ".../sprig/v3" is not found.
	"github.com/Masterminds/sprig"
	"gopkg.in/yaml.v2"
)

type job struct {
	Template int      `json:"template"`
	Data     int      `json:"data"`
	Options  []string `json:"options"`
	YAML     bool     `json:"yaml"`
}

type request struct {
	Templates []string `json:"templates"`
	// Decoded by encoding/json into interface{}, so every number is a float64: Argo CD receives
	// generator parameters through sigs.k8s.io/yaml, which goes through JSON as well, and
	// templates such as `printf "%T"` or `eq .n 1` behave differently for float64 and int.
	Data []interface{} `json:"data"`
	Jobs []job         `json:"jobs"`
}

// result holds exactly one of Output, Value and Error; pointers so that an empty output is still sent.
type result struct {
	Output *string          `json:"output,omitempty"`
	Value  *json.RawMessage `json:"value,omitempty"`
	Error  *string          `json:"error,omitempty"`
}

type response struct {
	Results []result `json:"results"`
}

var funcMap = argoFuncMap()

// argoFuncMap mirrors the init() of Argo CD's applicationset/utils/utils.go.
func argoFuncMap() template.FuncMap {
	funcs := template.FuncMap(sprig.GenericFuncMap())
	// Argo CD removes these so that templates cannot learn about the controller's environment.
	delete(funcs, "env")
	delete(funcs, "expandenv")
	delete(funcs, "getHostByName")
	funcs["normalize"] = sanitizeName
	funcs["slugify"] = slugify
	funcs["toYaml"] = toYAML
	funcs["fromYaml"] = fromYAML
	funcs["fromYamlArray"] = fromYAMLArray
	return funcs
}

var invalidDNSNameChars = regexp.MustCompile("[^-a-z0-9.]")

// sanitizeName is Argo CD's SanitizeName: a DNS-1123 subdomain of at most 253 characters made of
// lowercase alphanumerics, '-' and '.', starting and ending with an alphanumeric.
func sanitizeName(name string) string {
	const maxDNSNameLength = 253
	name = invalidDNSNameChars.ReplaceAllString(strings.ToLower(name), "-")
	if len(name) > maxDNSNameLength {
		name = name[:maxDNSNameLength]
	}
	return strings.Trim(name, "-.")
}

// slugify exists so that templates using it fail with a clear message rather than with
// `function "slugify" not defined` (which would read as a typo): Argo CD implements it with
// github.com/gosimple/slug, which Debian does not package, and an approximation would produce
// Application names that differ from Argo CD's without anyone noticing.
func slugify(...interface{}) (string, error) {
	return "", errors.New("slugify is not supported by fleetmig's template engine (Argo CD implements it with gosimple/slug)")
}

// The YAML functions reproduce sigs.k8s.io/yaml, which Argo CD calls: that library goes through
// JSON in both directions and uses a fork of gopkg.in/yaml.v2 v2.4.0 for the YAML side. Debian's
// gopkg.in/yaml.v2 is that same v2.4.0, so keys come out sorted, sequences compact ("- " at the
// parent's indentation), long strings folded and numbers typed exactly as in Argo CD. Error
// handling follows Helm's template functions, which Argo CD copied: never fail the template.

// toYAML is sigs.k8s.io/yaml.Marshal (JSON, then YAML) without the trailing newline; "" on error.
func toYAML(v interface{}) string {
	jsonBytes, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	// yaml.v2 picks int or float for each JSON number, where encoding/json would make every
	// number a float64 (and print 1e+06 for a million).
	var obj interface{}
	if err := yaml.Unmarshal(jsonBytes, &obj); err != nil {
		return ""
	}
	yamlBytes, err := yaml.Marshal(obj)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(string(yamlBytes), "\n")
}

// fromYAML decodes a YAML mapping; on error the map holds the message under "Error".
func fromYAML(str string) map[string]interface{} {
	m := map[string]interface{}{}
	if err := unmarshalLikeSigsYAML(str, &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

// fromYAMLArray decodes a YAML sequence; on error the message is the only item.
func fromYAMLArray(str string) []interface{} {
	a := []interface{}{}
	if err := unmarshalLikeSigsYAML(str, &a); err != nil {
		a = []interface{}{err.Error()}
	}
	return a
}

// unmarshalLikeSigsYAML is sigs.k8s.io/yaml.Unmarshal into an untyped target: YAML to a
// JSON-compatible value (map keys become strings), then encoding/json, so numbers are float64 as
// everywhere else in Argo CD's parameters. The error prefixes are the library's.
func unmarshalLikeSigsYAML(str string, target interface{}) error {
	var obj interface{}
	if err := yaml.Unmarshal([]byte(str), &obj); err != nil {
		return fmt.Errorf("error converting YAML to JSON: error converting YAML to JSON: %w", err)
	}
	jsonable, err := jsonableYAML(obj)
	if err != nil {
		return fmt.Errorf("error converting YAML to JSON: error converting YAML to JSON: %w", err)
	}
	jsonBytes, err := json.Marshal(jsonable)
	if err != nil {
		return fmt.Errorf("error converting YAML to JSON: error converting YAML to JSON: %w", err)
	}
	if err := json.Unmarshal(jsonBytes, target); err != nil {
		return fmt.Errorf("error unmarshaling JSON: %w", err)
	}
	return nil
}

// jsonableYAML converts yaml.v2's map[interface{}]interface{} into map[string]interface{},
// turning int, float and bool keys into strings as sigs.k8s.io/yaml does.
func jsonableYAML(v interface{}) (interface{}, error) {
	switch typed := v.(type) {
	case map[interface{}]interface{}:
		out := make(map[string]interface{}, len(typed))
		for k, item := range typed {
			key, err := yamlKeyString(k, item)
			if err != nil {
				return nil, err
			}
			if out[key], err = jsonableYAML(item); err != nil {
				return nil, err
			}
		}
		return out, nil
	case []interface{}:
		out := make([]interface{}, len(typed))
		for i, item := range typed {
			var err error
			if out[i], err = jsonableYAML(item); err != nil {
				return nil, err
			}
		}
		return out, nil
	default:
		return v, nil
	}
}

func yamlKeyString(k, v interface{}) (string, error) {
	switch key := k.(type) {
	case string:
		return key, nil
	case int:
		return strconv.Itoa(key), nil
	case int64:
		return strconv.FormatInt(key, 10), nil
	case float64:
		// The same formatting as yaml.v2 (and sigs.k8s.io/yaml) use for floats.
		switch s := strconv.FormatFloat(key, 'g', -1, 32); s {
		case "+Inf":
			return ".inf", nil
		case "-Inf":
			return "-.inf", nil
		case "NaN":
			return ".nan", nil
		default:
			return s, nil
		}
	case bool:
		return strconv.FormatBool(key), nil
	default:
		return "", fmt.Errorf("unsupported map key of type: %s, key: %+#v, value: %+#v", reflect.TypeOf(k), k, v)
	}
}

// compiled is a parsed template, or why it could not be parsed.
type compiled struct {
	template *template.Template
	err      error
}

// compile parses one template with its options. text/template already turns a panic inside a
// template function (sprig's dig on a non-map, for instance) into an execution error; the recover
// covers what it does not, such as Template.Option panicking on an unknown option, so that one bad
// job never loses the results of the others.
func compile(text string, options []string) (c compiled) {
	defer func() {
		if r := recover(); r != nil {
			c = compiled{err: fmt.Errorf("%v", r)}
		}
	}()
	t, err := template.New("").Option(options...).Funcs(funcMap).Parse(text)
	return compiled{template: t, err: err}
}

// execute runs one parsed template on one job's data.
func execute(c compiled, data interface{}) (res result) {
	defer func() {
		if r := recover(); r != nil {
			res = failure(fmt.Errorf("%v", r))
		}
	}()
	if c.err != nil {
		return failure(c.err)
	}
	var out strings.Builder
	if err := c.template.Execute(&out, data); err != nil {
		return failure(err)
	}
	text := out.String()
	return result{Output: &text}
}

// renderAll parses each distinct template once (a batch repeats an ApplicationSet's few fields for
// every parameter set) and executes the jobs on every core: a parsed template may be executed in
// parallel, and each job only reads its own data.
func renderAll(req request) ([]result, error) {
	jobs := req.Jobs
	parsed := make([]compiled, len(jobs))
	seen := map[string]compiled{}
	for i, j := range jobs {
		if j.Template < 0 || j.Template >= len(req.Templates) || j.Data < 0 || j.Data >= len(req.Data) {
			return nil, fmt.Errorf("reading the request: job %d names a template or data that is not in the request", i)
		}
		key := strings.Join(j.Options, "\x00") + "\x01" + strconv.Itoa(j.Template)
		c, ok := seen[key]
		if !ok {
			c = compile(req.Templates[j.Template], j.Options)
			seen[key] = c
		}
		parsed[i] = c
	}
	results := make([]result, len(jobs))
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(first int) {
			defer wg.Done()
			for i := first; i < len(jobs); i += workers {
				results[i] = execute(parsed[i], req.Data[jobs[i].Data])
				if jobs[i].YAML && results[i].Output != nil {
					results[i] = yamlToJSON(*results[i].Output)
				}
			}
		}(w)
	}
	wg.Wait()
	return results, nil
}

// yamlToJSON is sigs.k8s.io/yaml.YAMLToJSON: map keys become strings, integers stay integers.
func yamlToJSON(text string) result {
	var obj interface{}
	if err := yaml.Unmarshal([]byte(text), &obj); err != nil {
		return failure(fmt.Errorf("error converting YAML to JSON: %w", err))
	}
	jsonable, err := jsonableYAML(obj)
	if err != nil {
		return failure(fmt.Errorf("error converting YAML to JSON: %w", err))
	}
	encoded, err := json.Marshal(jsonable)
	if err != nil {
		return failure(fmt.Errorf("error converting YAML to JSON: %w", err))
	}
	value := json.RawMessage(encoded)
	return result{Value: &value}
}

func failure(err error) result {
	message := err.Error()
	return result{Error: &message}
}

func run() error {
	decoder := json.NewDecoder(bufio.NewReader(os.Stdin))
	decoder.DisallowUnknownFields()
	var req request
	if err := decoder.Decode(&req); err != nil {
		return fmt.Errorf("reading the request: %w", err)
	}
	if decoder.More() {
		return errors.New("reading the request: more than one JSON document on stdin")
	}
	results, err := renderAll(req)
	if err != nil {
		return err
	}
	resp := response{Results: results}
	writer := bufio.NewWriter(os.Stdout)
	encoder := json.NewEncoder(writer)
	// Template output is text, not HTML: keep <no value> and & readable in the raw stream.
	encoder.SetEscapeHTML(false)
	if err := encoder.Encode(resp); err != nil {
		return fmt.Errorf("writing the response: %w", err)
	}
	return writer.Flush()
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
