package infra_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/cofferhq/coffer/deploy/aws/infra"
	"github.com/cofferhq/coffer/deploy/aws/synth"
)

// A case is one combination of options, synthesized once for the whole test binary.
type tcase struct {
	name string
	opts infra.Options
}

var (
	principals = []string{"arn:aws:iam::111122223333:root", "arn:aws:iam::444455556666:role/coffer-consumer"}
	cases      = []tcase{
		// public and private come from `synth --out DIR` with no flag: the shipped defaults.
		{"public", infra.Defaults(infra.Public)},
		{"private", infra.Defaults(infra.Private)},
		{"public-2az-singlenat-cidrs", with(infra.Public, func(o *infra.Options) {
			o.AZs, o.SingleNAT, o.AllowedCIDRs = 2, true, []string{"203.0.113.0/24", "198.51.100.0/24"}
		})},
		{"public-airgapped", with(infra.Public, func(o *infra.Options) { o.AirGapped = true })},
		{"private-airgapped-tcp", with(infra.Private, func(o *infra.Options) {
			o.AirGapped, o.NLBMode, o.AllowedPrincipals = true, infra.NLBTCP, principals
		})},
		{"private-2az-singlenat", with(infra.Private, func(o *infra.Options) {
			o.AZs, o.SingleNAT, o.AllowedPrincipals = 2, true, principals[:1]
		})},
	}
)

func with(v infra.Variant, f func(*infra.Options)) infra.Options {
	o := infra.Defaults(v)
	f(&o)
	return o
}

func (c tcase) airGapped() bool { return c.opts.AirGapped }
func (c tcase) public() bool    { return c.opts.Variant == infra.Public }

// templates synthesizes every case once: the two defaults through the command line (which
// also proves its interface), the others in one more CDK app.
var templates = sync.OnceValues(func() (map[string]*tpl, error) {
	dir, err := os.MkdirTemp("", "coffer-cdk-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "cli")
	if err := synth.Main([]string{"synth", "--out", out}); err != nil {
		return nil, err
	}
	paths := map[string]string{
		"public":  filepath.Join(out, "public.template.json"),
		"private": filepath.Join(out, "private.template.json"),
	}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(filepath.Join(dir, "more"))})
	for _, c := range cases[2:] {
		if _, err := infra.NewStack(app, c.name, c.opts); err != nil {
			return nil, fmt.Errorf("%s: %w", c.name, err)
		}
		paths[c.name] = filepath.Join(dir, "more", c.name+".template.json")
	}
	app.Synth(nil)
	all := map[string]*tpl{}
	for name, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		t := &tpl{name: name, size: len(b)}
		if err := json.Unmarshal(b, t); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		if err := json.Unmarshal(b, &t.raw); err != nil {
			return nil, err
		}
		all[name] = t
	}
	return all, nil
})

// load returns every case's template, failing (under CI=true) or skipping when node, which
// the CDK runs in, is missing.
func load(t *testing.T) map[string]*tpl {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		msg := "node is not installed: the CDK synthesizes through it (scripts/test-deps.sh installs nodejs)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip("SKIPPING: " + msg)
	}
	all, err := templates()
	if err != nil {
		t.Fatalf("synth: %v", err)
	}
	return all
}

// eachCase runs f for every case as a subtest.
func eachCase(t *testing.T, f func(t *testing.T, c tcase, tp *tpl)) {
	t.Helper()
	all := load(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { f(t, c, all[c.name]) })
	}
}

// tpl is a CloudFormation template.
type tpl struct {
	name       string
	size       int
	raw        map[string]any
	Parameters map[string]map[string]any `json:"Parameters"`
	Conditions map[string]any            `json:"Conditions"`
	Resources  map[string]resource       `json:"Resources"`
	Outputs    map[string]map[string]any `json:"Outputs"`
	Rules      map[string]any            `json:"Rules"`
}

type resource struct {
	Type           string         `json:"Type"`
	Properties     map[string]any `json:"Properties"`
	DeletionPolicy string         `json:"DeletionPolicy"`
	Condition      string         `json:"Condition"`
}

// ofType returns the logical ids of the resources of type typ, sorted.
func (t *tpl) ofType(typ string) []string {
	var ids []string
	for id, r := range t.Resources {
		if r.Type == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// one returns the only resource of type typ whose logical id starts with prefix.
func (t *tpl) one(tb testing.TB, typ, prefix string) (string, resource) {
	tb.Helper()
	var found []string
	for _, id := range t.ofType(typ) {
		if strings.HasPrefix(id, prefix) {
			found = append(found, id)
		}
	}
	if len(found) != 1 {
		tb.Fatalf("%s: want one %s named %s*, have %v", t.name, typ, prefix, found)
	}
	return found[0], t.Resources[found[0]]
}

// ref returns the logical id v refers to ({"Ref": X} or {"Fn::GetAtt": [X, …]}), or "".
func ref(v any) string {
	m, ok := v.(map[string]any)
	if !ok {
		return ""
	}
	if r, ok := m["Ref"].(string); ok {
		return r
	}
	if g, ok := m["Fn::GetAtt"].([]any); ok && len(g) > 0 {
		s, _ := g[0].(string)
		return s
	}
	return ""
}

// azIndex returns N for {"Fn::Select": [N, {"Fn::GetAZs": ""}]}, or -1.
func azIndex(v any) int {
	m, ok := v.(map[string]any)
	if !ok {
		return -1
	}
	sel, ok := m["Fn::Select"].([]any)
	if !ok || len(sel) != 2 {
		return -1
	}
	if g, ok := sel[1].(map[string]any); !ok || g["Fn::GetAZs"] != "" {
		return -1
	}
	n, ok := sel[0].(float64)
	if !ok {
		return -1
	}
	return int(n)
}

// js renders v as compact JSON for comparisons and messages.
func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

func strs(v any) []string {
	var out []string
	for _, x := range list(v) {
		out = append(out, js(x))
	}
	return out
}

// subnetGroup returns the CDK subnet group name ("public", "app", "data") of a subnet.
func (t *tpl) subnetGroup(id string) string {
	for _, tag := range list(t.Resources[id].Properties["Tags"]) {
		m := tag.(map[string]any)
		if m["Key"] == "aws-cdk:subnet-name" {
			return m["Value"].(string)
		}
	}
	return ""
}

// subnetGroups returns the groups of the subnets listed in v, deduplicated and sorted.
func (t *tpl) subnetGroups(v any) []string {
	seen := map[string]bool{}
	for _, s := range list(v) {
		seen[t.subnetGroup(ref(s))] = true
	}
	var out []string
	for g := range seen {
		out = append(out, g)
	}
	sort.Strings(out)
	return out
}

func attributes(v any) map[string]string {
	out := map[string]string{}
	for _, a := range list(v) {
		m := a.(map[string]any)
		out[m["Key"].(string)] = fmt.Sprint(m["Value"])
	}
	return out
}

// env returns a container definition's Environment as a map of JSON-rendered values.
func env(container map[string]any) map[string]string {
	out := map[string]string{}
	for _, e := range list(container["Environment"]) {
		m := e.(map[string]any)
		out[m["Name"].(string)] = js(m["Value"])
	}
	return out
}
