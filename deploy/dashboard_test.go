package deploy

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// dashboard is the part of the Grafana dashboard JSON the tests read.
type dashboard struct {
	Title      string `json:"title"`
	Editable   bool   `json:"editable"`
	Templating struct {
		List []struct {
			Name       string          `json:"name"`
			Type       string          `json:"type"`
			Query      json.RawMessage `json:"query"`
			Datasource *dsRef          `json:"datasource"`
			Multi      bool            `json:"multi"`
			IncludeAll bool            `json:"includeAll"`
			AllValue   string          `json:"allValue"`
		} `json:"list"`
	} `json:"templating"`
	Panels []dashPanel `json:"panels"`
}

type dsRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type dashPanel struct {
	Title       string `json:"title"`
	Type        string `json:"type"`
	Description string `json:"description"`
	Datasource  *dsRef `json:"datasource"`
	Targets     []struct {
		Expr       string `json:"expr"`
		Datasource *dsRef `json:"datasource"`
	} `json:"targets"`
	FieldConfig struct {
		Defaults struct {
			Unit string `json:"unit"`
		} `json:"defaults"`
	} `json:"fieldConfig"`
}

func loadDashboard(t *testing.T) dashboard {
	t.Helper()
	b, err := os.ReadFile("grafana/dashboards/schoolwatch.json")
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}
	if len(d.Panels) < 10 {
		t.Fatalf("only %d panels", len(d.Panels))
	}
	return d
}

// grafanaUnits are Grafana unit ids the dashboard may use (a subset of
// Grafana's list: an id Grafana does not know shows raw numbers).
var grafanaUnits = []string{"none", "short", "s", "ms", "reqps", "ops", "cps", "percent", "percentunit", "bytes", "dateTimeAsIso", "dtdurations"}

var (
	// schoolwatchSelector finds each selector of a schoolwatch metric.
	schoolwatchSelector = regexp.MustCompile(`\bschoolwatch_[a-z_]+(\{[^}]*\})?`)
	rangeCall           = regexp.MustCompile(`\b(rate|irate)\(([^()]|\([^()]*\))*\[([^\]]+)\]`)
)

// TestDashboardPanels checks what the dashboard linter found missing
// (issue 17): every panel has a description and a unit and reads the
// datasource variable, not a fixed datasource uid; every query is limited
// to the $job and $instance variables, so two daemons (live and test) are
// not added together; rate() uses $__rate_interval.
func TestDashboardPanels(t *testing.T) {
	d := loadDashboard(t)
	if d.Editable {
		t.Error("the provisioned dashboard is editable: edits would be lost at the next provisioning")
	}
	vars := map[string]int{}
	for i, v := range d.Templating.List {
		vars[v.Name] = i
	}
	i, ok := vars["datasource"]
	if !ok {
		t.Fatal("no datasource variable")
	}
	if ds := d.Templating.List[i]; ds.Type != "datasource" || string(ds.Query) != `"prometheus"` {
		t.Errorf("datasource variable: type %q query %s, want a Prometheus datasource variable", ds.Type, ds.Query)
	}
	for _, name := range []string{"job", "instance"} {
		i, ok := vars[name]
		if !ok {
			t.Errorf("no %s variable", name)
			continue
		}
		v := d.Templating.List[i]
		if v.Type != "query" || v.Datasource == nil || v.Datasource.UID != "${datasource}" || !v.Multi || !v.IncludeAll || v.AllValue != ".+" {
			t.Errorf("%s variable: %+v, want a multi-value query on ${datasource} with All = .+", name, v)
		}
	}
	var titles []string
	for _, p := range d.Panels {
		titles = append(titles, p.Title)
		if strings.TrimSpace(p.Description) == "" {
			t.Errorf("panel %q has no description", p.Title)
		}
		if u := p.FieldConfig.Defaults.Unit; !slices.Contains(grafanaUnits, u) {
			t.Errorf("panel %q has unit %q, want one of %v", p.Title, u, grafanaUnits)
		}
		if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
			t.Errorf("panel %q datasource %+v, want uid ${datasource}", p.Title, p.Datasource)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no queries", p.Title)
		}
		for _, tg := range p.Targets {
			if tg.Datasource != nil && tg.Datasource.UID != "${datasource}" {
				t.Errorf("panel %q: a query uses datasource %+v, want ${datasource}", p.Title, tg.Datasource)
			}
			sels := schoolwatchSelector.FindAllString(tg.Expr, -1)
			if len(sels) == 0 {
				t.Errorf("panel %q: %q reads no schoolwatch metric", p.Title, tg.Expr)
			}
			for _, s := range sels {
				if !strings.Contains(s, `job=~"$job"`) || !strings.Contains(s, `instance=~"$instance"`) {
					t.Errorf("panel %q: selector %s lacks job=~\"$job\" and instance=~\"$instance\"", p.Title, s)
				}
			}
			for _, m := range rangeCall.FindAllStringSubmatch(tg.Expr, -1) {
				if m[3] != "$__rate_interval" {
					t.Errorf("panel %q: %s() over [%s], want [$__rate_interval]", p.Title, m[1], m[3])
				}
			}
		}
	}
	if b, _ := os.ReadFile("grafana/dashboards/schoolwatch.json"); strings.Contains(string(b), "schoolwatch-prometheus") {
		t.Error("the dashboard still names the provisioned datasource's uid: it cannot be imported into another Grafana")
	}
	for _, want := range []string{"Critical findings (24h)", "Feeds never succeeded", "Feeds by health state", "Config reloads failed (24h)"} {
		if !slices.Contains(titles, want) {
			t.Errorf("no panel %q", want)
		}
	}
}

// TestDashboardCriticalFindingsPanel evaluates the "Critical findings
// (24h)" panel's query with promtool on series like the daemon's: the
// first critical finding of a rule (a series born at 1, which increase()
// alone reads as 0) shows as 1; a rise of an older series counts once;
// other severities do not count.
func TestDashboardCriticalFindingsPanel(t *testing.T) {
	promtool := tool(t, "promtool")
	var expr string
	for _, p := range loadDashboard(t).Panels {
		if p.Title == "Critical findings (24h)" {
			expr = expandDashboardVars(p.Targets[0].Expr)
		}
	}
	if expr == "" {
		t.Fatal("no Critical findings (24h) panel")
	}
	q, _ := json.Marshal(expr) // a JSON string is a YAML string
	test := fmt.Sprintf(`rule_files: []
evaluation_interval: 1m
tests:
  - name: the first critical finding after start-up (series born at 1)
    interval: 1m
    input_series:
      - series: 'schoolwatch_findings_total{job="schoolwatch",instance="a",rule="threat",category="threat",severity="critical"}'
        values: '_x30 1x30'
      - series: 'schoolwatch_findings_total{job="schoolwatch",instance="a",rule="privacy",category="privacy",severity="high"}'
        values: '0+1x60'
    promql_expr_test:
      - expr: %[1]s
        eval_time: 40m
        exp_samples: [{labels: '{}', value: 1}]
      - expr: %[1]s
        eval_time: 20m
        exp_samples: [{labels: '{}', value: 0}]
  - name: a series created at 0 and older than the window rises by 2
    interval: 1h
    input_series:
      - series: 'schoolwatch_findings_total{job="schoolwatch",instance="a",rule="threat",category="threat",severity="critical"}'
        values: '0x20 1x3 2x6'
      - series: 'schoolwatch_findings_total{job="schoolwatch",instance="a",rule="bomb",category="threat",severity="critical"}'
        values: '3x29'
    promql_expr_test:
      - expr: %[1]s
        eval_time: 28h
        exp_samples: [{labels: '{}', value: 2}]
`, q)
	path := filepath.Join(t.TempDir(), "panel_test.yml")
	if err := os.WriteFile(path, []byte(test), 0o600); err != nil {
		t.Fatal(err)
	}
	run(t, promtool, "test", "rules", path)
}
