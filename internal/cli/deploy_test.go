package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// root is the repository's top folder, where the deployment files live.
const root = "../.."

// checkCommand fails unless the command line (arguments after the binary) uses only commands and
// flags the binary has, with values of the right kind: the flags are parsed as aceswarm would,
// then -h stops it before anything runs.
func checkCommand(t *testing.T, where string, args []string) {
	t.Helper()
	check := append(slices.Clone(args), "-h")
	if len(args) > 1 && (args[0] == "health" || args[0] == "clip") { // -h before the one positional argument
		last := len(args) - 1
		check = append(append(slices.Clone(args[:last]), "-h"), args[last])
	}
	if code, _, stderr := runCLI(check...); code != 0 {
		t.Errorf("%s: %q: %s", where, args, strings.TrimSpace(stderr))
	}
}

// listens returns the TCP ports a command line listens on, by its flags and their defaults.
func listens(args []string) []int {
	flag := func(name, def string) string {
		for i, a := range args {
			if strings.TrimLeft(a, "-") == name && i+1 < len(args) {
				return args[i+1]
			}
		}
		return def
	}
	port := func(hostport string) int {
		_, p, _ := net.SplitHostPort(hostport)
		n, _ := strconv.Atoi(p)
		return n
	}
	atoi := func(s string) int { n, _ := strconv.Atoi(s); return n }
	cmd := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd = args[0]
	}
	switch cmd {
	case "tracker":
		return []int{port(flag("listen", defaultTrackerListen))}
	case "metatracker":
		return []int{port(flag("listen", defaultMetatrackerListen))}
	case "proxy":
		return []int{port(flag("addr", defaultProxyAddr))}
	case "", "engine":
	default:
		return nil // clip, health: nothing
	}
	if slices.Contains(args, "--stream-source-node") {
		return []int{atoi(flag("port", strconv.Itoa(defaultSourcePort)))}
	}
	if slices.Contains(args, "--stream-support-node") || slices.Contains(args, "--stream-startup-node") {
		return []int{atoi(flag("port", strconv.Itoa(defaultPeerPort)))}
	}
	out := []int{atoi(flag("port", strconv.Itoa(defaultPeerPort))), atoi(flag("http-port", strconv.Itoa(defaultHTTPPort)))}
	if api := atoi(flag("api-port", strconv.Itoa(defaultAPIPort))); api != 0 {
		out = append(out, api)
	}
	return out
}

func checkPorts(t *testing.T, where string, args []string, exposed []int) {
	t.Helper()
	open := listens(args)
	for _, p := range exposed {
		if !slices.Contains(open, p) {
			t.Errorf("%s exposes port %d; %q listens on %v", where, p, args, open)
		}
	}
}

// The Dockerfile's command, health check and exposed ports.
func TestDockerfile(t *testing.T) {
	f, err := os.Open(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var entry, cmd, health []string
	var exposed []int
	sc := bufio.NewScanner(f)
	final := false
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		word, rest, _ := strings.Cut(line, " ")
		array := func(s string) []string {
			var out []string
			if err := json.Unmarshal([]byte(s), &out); err != nil {
				t.Fatalf("Dockerfile: %s: want the JSON (exec) form: %v", word, err)
			}
			return out
		}
		switch word {
		case "FROM":
			final = !strings.Contains(rest, " AS ")
		case "ENTRYPOINT":
			entry = array(rest)
		case "CMD":
			cmd = array(rest)
		case "HEALTHCHECK":
			_, after, ok := strings.Cut(rest, "CMD ")
			if !ok {
				t.Fatal("Dockerfile: HEALTHCHECK without CMD")
			}
			health = array(after)
		case "EXPOSE":
			for _, p := range strings.Fields(rest) {
				n, _ := strconv.Atoi(strings.TrimSuffix(p, "/tcp"))
				exposed = append(exposed, n)
			}
		case "USER":
			if final && (rest == "root" || rest == "0" || strings.HasPrefix(rest, "0:")) {
				t.Error("Dockerfile: the image runs as root")
			}
		}
	}
	if !slices.Equal(entry, []string{"/aceswarm"}) || len(health) < 2 || health[0] != "/aceswarm" {
		t.Fatalf("Dockerfile: ENTRYPOINT %q, HEALTHCHECK %q", entry, health)
	}
	checkCommand(t, "Dockerfile CMD", cmd)
	checkCommand(t, "Dockerfile HEALTHCHECK", health[1:])
	checkPorts(t, "Dockerfile", cmd, exposed)
}

// docker-compose.yml: every service's command and health check, and the ports it publishes.
func TestCompose(t *testing.T) {
	var c struct {
		Services map[string]struct {
			Command     []string `yaml:"command"`
			Ports       []string `yaml:"ports"`
			Healthcheck struct {
				Test []string `yaml:"test"`
			} `yaml:"healthcheck"`
		} `yaml:"services"`
	}
	b, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"tracker", "source", "support", "viewer", "proxy"} {
		if _, ok := c.Services[want]; !ok {
			t.Errorf("docker-compose.yml has no %s service", want)
		}
	}
	for name, s := range c.Services {
		where := "docker-compose.yml " + name
		checkCommand(t, where, s.Command)
		if h := s.Healthcheck.Test; len(h) > 0 {
			if len(h) < 3 || h[0] != "CMD" || h[1] != "/aceswarm" {
				t.Errorf("%s: health check %q: want [CMD, /aceswarm, …]", where, h)
			} else {
				checkCommand(t, where+" health check", h[2:])
			}
		}
		var exposed []int
		for _, p := range s.Ports {
			_, container, _ := strings.Cut(p, ":")
			n, _ := strconv.Atoi(container)
			exposed = append(exposed, n)
		}
		checkPorts(t, where, s.Command, exposed)
	}
}

// The systemd units' ExecStart lines.
func TestSystemdUnits(t *testing.T) {
	units, _ := filepath.Glob(filepath.Join(root, "deploy", "systemd", "*.service"))
	if len(units) == 0 {
		t.Fatal("no systemd unit")
	}
	for _, u := range units {
		b, err := os.ReadFile(u)
		if err != nil {
			t.Fatal(err)
		}
		var exec []string
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "ExecStart="); ok {
				exec = strings.Fields(v)
			}
		}
		if len(exec) < 1 || exec[0] != "/usr/local/bin/aceswarm" || !strings.Contains(string(b), "DynamicUser=yes") {
			t.Fatalf("%s: ExecStart %q; want /usr/local/bin/aceswarm and DynamicUser", u, exec)
		}
		checkCommand(t, filepath.Base(u), exec[1:])
	}
}

// The Kubernetes manifests: every container's arguments and exec probes, and the ports its
// container, its HTTP probes and its Services name.
func TestKubernetesManifests(t *testing.T) {
	type probe struct {
		Exec    *struct{ Command []string } `yaml:"exec"`
		HTTPGet *struct{ Port int }         `yaml:"httpGet"`
	}
	type container struct {
		Image string   `yaml:"image"`
		Args  []string `yaml:"args"`
		Ports []struct {
			ContainerPort int `yaml:"containerPort"`
		} `yaml:"ports"`
		ReadinessProbe *probe `yaml:"readinessProbe"`
		LivenessProbe  *probe `yaml:"livenessProbe"`
	}
	type doc struct {
		Kind     string
		Metadata struct{ Name string }
		Spec     struct {
			Selector struct {
				MatchLabels map[string]string `yaml:"matchLabels"`
			} `yaml:"selector"`
			Template struct {
				Spec struct{ Containers []container }
			} `yaml:"template"`
			Ports []struct { // a Service's
				TargetPort int `yaml:"targetPort"`
			} `yaml:"ports"`
		}
	}
	files, _ := filepath.Glob(filepath.Join(root, "deploy", "k8s", "*.yaml"))
	kinds := map[string]int{}
	podPorts := map[string][]int{} // by component label
	var services []struct {
		name      string
		component string
		ports     []int
	}
	for _, file := range files {
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(f)
		for {
			var node yaml.Node
			if err := dec.Decode(&node); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			var d doc
			if err := node.Decode(&d); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			kinds[d.Kind]++
			where := filepath.Base(file) + " " + d.Kind + " " + d.Metadata.Name
			if d.Kind == "Service" {
				var svc struct {
					Spec struct{ Selector map[string]string }
				}
				node.Decode(&svc)
				var ports []int
				for _, p := range d.Spec.Ports {
					ports = append(ports, p.TargetPort)
				}
				services = append(services, struct {
					name      string
					component string
					ports     []int
				}{where, svc.Spec.Selector["app.kubernetes.io/component"], ports})
				continue
			}
			for _, c := range d.Spec.Template.Spec.Containers {
				checkCommand(t, where, c.Args)
				var exposed []int
				for _, p := range c.Ports {
					exposed = append(exposed, p.ContainerPort)
				}
				for _, pr := range []*probe{c.ReadinessProbe, c.LivenessProbe} {
					switch {
					case pr == nil:
					case pr.Exec != nil:
						if len(pr.Exec.Command) < 2 || pr.Exec.Command[0] != "/aceswarm" {
							t.Errorf("%s: probe %q", where, pr.Exec.Command)
						} else {
							checkCommand(t, where+" probe", pr.Exec.Command[1:])
						}
					case pr.HTTPGet != nil:
						exposed = append(exposed, pr.HTTPGet.Port)
					}
				}
				checkPorts(t, where, c.Args, exposed)
				comp := d.Spec.Selector.MatchLabels["app.kubernetes.io/component"]
				podPorts[comp] = append(podPorts[comp], listens(c.Args)...)
			}
		}
		f.Close()
	}
	for _, s := range services {
		for _, p := range s.ports {
			if !slices.Contains(podPorts[s.component], p) {
				t.Errorf("%s targets port %d; its pods (%s) listen on %v", s.name, p, s.component, podPorts[s.component])
			}
		}
	}
	if kinds["Deployment"] < 2 || kinds["StatefulSet"] < 2 || kinds["Service"] < 4 {
		t.Errorf("manifests: %v; want the viewers and the proxy as Deployments, the source and support nodes as StatefulSets, and their Services", kinds)
	}
}
