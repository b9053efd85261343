"""The Kubernetes manifests: every overlay renders with `kubectl kustomize`, validates
against the Kubernetes schemas offline (scripts/validate-k8s.sh), and keeps the
invariants docs/operations.md promises. Every setting a service reads is set."""

from __future__ import annotations

import ast
import ipaddress
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
OVERLAYS = sorted(p.name for p in (ROOT / "k8s" / "overlays").iterdir() if (p / "kustomization.yaml").exists())
SERVICES = ("crawler", "processor", "orchestrator", "bridge")
GRPC_PORTS = {"crawler": 50051, "processor": 50052, "orchestrator": 50053}
GRACE_SETTING = {"crawler": "CRAWLER_GRACE_SECONDS", "processor": "PROCESSOR_GRACE_SECONDS",
                 "orchestrator": "ORCHESTRATOR_GRACE_SECONDS", "bridge": "BRIDGE_GRACE_SECONDS"}
# Secrets an overlay does not generate: created out of band, documented in docs/operations.md.
EXTERNAL_SECRETS = {"production": {"docspasta-postgres", "docspasta-bridge"}}
# Settings a service reads that the manifests may leave unset (name -> why). Keep it empty
# unless the default is right in every cluster.
OPTIONAL_SETTINGS: dict[str, str] = {
    # Jobs may sign with their own secret; a deployment secret is mounted as
    # WEBHOOK_SECRET_FILE by those who want one (docs/operations.md, "Webhooks").
    "WEBHOOK_SECRET": "optional deployment webhook secret",
}
CRAWLER_DENIED = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16",
                  "127.0.0.0/8"]
SHUTDOWN_MARGIN = 5


@cache
def kubectl() -> str:
    path = shutil.which("kubectl")
    if not path:
        pytest.skip("kubectl (with kustomize v5) is not installed")
    return path


@cache
def render(overlay: str) -> tuple[dict[str, Any], ...]:
    out = subprocess.run([kubectl(), "kustomize", str(ROOT / "k8s" / "overlays" / overlay)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return tuple(d for d in yaml.safe_load_all(out.stdout) if d)


class Manifests:
    def __init__(self, overlay: str) -> None:
        self.overlay = overlay
        self.docs = render(overlay)

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [d for d in self.docs if d["kind"] == kind]

    def get(self, kind: str, name: str) -> dict[str, Any]:
        found = [d for d in self.of(kind) if d["metadata"]["name"] == name]
        assert found, f"{self.overlay}: no {kind}/{name}"
        return found[0]

    def find(self, kind: str, name: str) -> dict[str, Any] | None:
        return next((d for d in self.of(kind) if d["metadata"]["name"] == name), None)

    @property
    def namespace(self) -> str:
        [ns] = self.of("Namespace")
        return str(ns["metadata"]["name"])

    def workloads(self) -> list[dict[str, Any]]:
        return self.of("Deployment") + self.of("StatefulSet")

    def workload(self, name: str) -> dict[str, Any]:
        found = [w for w in self.workloads() if w["metadata"]["name"] == name]
        assert found, f"{self.overlay}: no workload {name}"
        return found[0]

    def container(self, name: str) -> dict[str, Any]:
        [c] = [c for c in self.workload(name)["spec"]["template"]["spec"]["containers"] if c["name"] == name]
        return c

    def config_data(self, kind: str, name: str) -> dict[str, str] | None:
        obj = self.find(kind, name)
        if obj is None:
            return None
        return dict(obj.get("data") or {}) if kind == "ConfigMap" else dict(obj.get("data") or {})

    def container_env(self, name: str) -> dict[str, str | None]:
        """Every variable the container gets: envFrom ConfigMaps/Secrets, then env (value
        or None for valueFrom)."""
        c = self.container(name)
        env: dict[str, str | None] = {}
        for source in c.get("envFrom", []):
            if "configMapRef" in source:
                data = self.config_data("ConfigMap", source["configMapRef"]["name"])
                assert data is not None, f"{name}: envFrom missing ConfigMap {source['configMapRef']['name']}"
                env.update(data)
            if "secretRef" in source:
                data = self.config_data("Secret", source["secretRef"]["name"])
                assert data is not None, f"{name}: envFrom missing Secret {source['secretRef']['name']}"
                env.update({k: None for k in data})
        for var in c.get("env", []):
            env[var["name"]] = var.get("value")
        return env

    def configmap_values(self) -> Iterator[tuple[str, str, str]]:
        for cm in self.of("ConfigMap"):
            for key, value in (cm.get("data") or {}).items():
                yield cm["metadata"]["name"], key, value


@pytest.fixture(params=OVERLAYS)
def m(request: pytest.FixtureRequest) -> Manifests:
    return Manifests(request.param)


# --- rendering and schemas -------------------------------------------------------------------

def test_there_is_a_dev_and_a_production_overlay() -> None:
    assert {"dev", "production"} <= set(OVERLAYS)


def test_validate_script_renders_and_validates_every_overlay() -> None:
    kubectl()
    out = subprocess.run([str(ROOT / "scripts" / "validate-k8s.sh")], capture_output=True, text=True,
                         timeout=600, cwd=ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    for overlay in OVERLAYS:
        assert f"ok   {overlay}:" in out.stdout


def test_schema_validation_rejects_a_bad_object() -> None:
    from kubernetes_validate import utils as kv

    good = Manifests("dev").get("Deployment", "crawler")
    kv.validate(good, "1.30.0", strict=True)
    bad = yaml.safe_load(yaml.safe_dump(good))
    bad["spec"]["template"]["spec"]["containers"][0]["resource"] = {}  # typo: strict mode catches it
    with pytest.raises(kv.ValidationError):
        kv.validate(bad, "1.30.0", strict=True)


# --- pods ------------------------------------------------------------------------------------

def test_every_pod_is_locked_down(m: Manifests) -> None:
    for w in m.workloads():
        name = w["metadata"]["name"]
        pod = w["spec"]["template"]["spec"]
        psc = pod.get("securityContext", {})
        assert psc.get("runAsNonRoot") is True, name
        assert psc.get("runAsUser", 0) > 0, name
        assert psc.get("seccompProfile", {}).get("type") == "RuntimeDefault", name
        assert pod.get("automountServiceAccountToken") is False, name
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        for c in pod.get("initContainers", []) + pod["containers"]:
            sc = c.get("securityContext", {})
            assert sc.get("readOnlyRootFilesystem") is True, f"{name}/{c['name']}"
            assert sc.get("allowPrivilegeEscalation") is False, f"{name}/{c['name']}"
            assert sc.get("capabilities", {}).get("drop") == ["ALL"], f"{name}/{c['name']}"
            assert not sc.get("capabilities", {}).get("add"), f"{name}/{c['name']}"
            assert sc.get("privileged") is not True
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(c.get("resources", {}).get(kind, {})), f"{name}: {kind}"
            tmp = [v for v in c.get("volumeMounts", []) if v["mountPath"] == "/tmp"]
            assert tmp and "emptyDir" in volumes[tmp[0]["name"]], f"{name}: /tmp must be an emptyDir"
            assert c.get("readinessProbe") and c.get("livenessProbe"), f"{name}: probes"


def test_services_run_the_one_image_with_their_module(m: Manifests) -> None:
    images = set()
    for service in SERVICES:
        c = m.container(service)
        assert c["args"] == [service], service
        assert "command" not in c, "the image's entrypoint is `python -m`"
        images.add(c["image"])
        assert ":" in c["image"] and not c["image"].endswith(":latest")
    assert len(images) == 1, images


def test_grpc_services_use_native_grpc_probes(m: Manifests) -> None:
    for service, port in GRPC_PORTS.items():
        c = m.container(service)
        assert {"name": "grpc", "containerPort": port, "protocol": "TCP"} in c["ports"]
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert c[probe].get("grpc", {}).get("port") == port, f"{service} {probe}"
            # The standard health service; "" is the server's overall status.
            assert c[probe]["grpc"].get("service", "") == ""


def test_termination_grace_outlasts_the_services_own_grace(m: Manifests) -> None:
    for service, setting in GRACE_SETTING.items():
        pod = m.workload(service)["spec"]["template"]["spec"]
        grace = float(m.container_env(service)[setting] or 0)
        assert grace > 0, f"{setting} must be set"
        pre_stop = m.container(service).get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds", 0)
        assert pod["terminationGracePeriodSeconds"] >= pre_stop + grace + SHUTDOWN_MARGIN, service


def test_orchestrator_is_a_statefulset_named_by_its_pods(m: Manifests) -> None:
    sts = m.get("StatefulSet", "orchestrator")
    env = {v["name"]: v for v in m.container("orchestrator").get("env", [])}
    assert env["ORCHESTRATOR_INSTANCE_ID"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    governing = m.get("Service", sts["spec"]["serviceName"])
    assert governing["spec"]["clusterIP"] == "None"
    # Draining replicas stay reachable by name until their jobs have ended.
    assert governing["spec"].get("publishNotReadyAddresses") is True
    # Jobs live in the job store and any replica answers any job: bridges send every call
    # round robin to the ready replicas, with no routing by job id prefix.
    bridge = m.container_env("bridge")
    assert not bridge["ORCHESTRATOR_TARGET_TEMPLATE"] and not bridge["ORCHESTRATOR_INSTANCES"]
    assert bridge["ORCHESTRATOR_TARGET"] == f"dns:///orchestrator.{m.namespace}.svc.cluster.local:50053"


def test_stateful_stores_have_persistent_volumes(m: Manifests) -> None:
    for name in ("postgres", "redis"):
        sts = m.get("StatefulSet", name)
        claims = sts["spec"].get("volumeClaimTemplates", [])
        assert claims, name
        mounts = {v["name"] for v in sts["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]}
        assert claims[0]["metadata"]["name"] in mounts
        assert m.get("Service", sts["spec"]["serviceName"])["spec"]["clusterIP"] == "None"


# --- services, targets -----------------------------------------------------------------------

def test_grpc_services_are_headless(m: Manifests) -> None:
    grpc_services = [s for s in m.of("Service")
                     if any(p.get("appProtocol") == "grpc" or p.get("name") == "grpc" for p in s["spec"]["ports"])]
    assert {s["metadata"]["name"] for s in grpc_services} >= {
        "crawler-headless", "processor-headless", "orchestrator", "orchestrator-headless"}
    for s in grpc_services:
        assert s["spec"].get("clusterIP") == "None", s["metadata"]["name"]


def test_every_target_names_a_headless_service_in_this_namespace(m: Manifests) -> None:
    services = {s["metadata"]["name"]: s for s in m.of("Service")}
    # An empty target or template is a feature turned off (e.g. no routing by job id).
    targets = [(f"{n}.{k}", v) for n, k, v in m.configmap_values() if k.endswith(("_TARGET", "_TEMPLATE")) and v]
    targets += [(f"{c}.env.{k}", v or "") for c in SERVICES for k, v in m.container_env(c).items()
                if v and ".svc.cluster.local" in v]
    assert len(targets) >= 6
    for where, value in targets:
        match = re.search(r"(?:^dns:///|@|//)(?:[\w{}-]+\.)?([a-z0-9-]+)\.([a-z0-9-]+)\.svc\.cluster\.local:(\d+)",
                          value)
        assert match, f"{where}={value}: want a dns:/// target on a cluster service"
        service, namespace, port = match.group(1), match.group(2), int(match.group(3))
        assert namespace == m.namespace, f"{where}: namespace {namespace}, overlay is {m.namespace}"
        assert service in services, f"{where}: no Service {service}"
        assert port in {p["port"] for p in services[service]["spec"]["ports"]}, where
        assert services[service]["spec"].get("clusterIP") == "None", f"{where}: {service} must be headless"
        if value.startswith("dns:///") and "{instance}" not in value:
            assert services[service]["spec"].get("publishNotReadyAddresses") is not True, \
                f"{where}: balanced targets must list ready pods only"


def test_autoscalers_and_disruption_budgets(m: Manifests) -> None:
    for name in ("crawler", "processor"):
        hpa = m.get("HorizontalPodAutoscaler", name)
        ref = hpa["spec"]["scaleTargetRef"]
        assert (ref["kind"], ref["name"]) == ("Deployment", name)
        assert "replicas" not in m.get("Deployment", name)["spec"], f"{name}: the HPA owns replicas"
        assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
        assert any(x["type"] == "Resource" and x["resource"]["name"] == "cpu" for x in hpa["spec"]["metrics"])
    # The crawler is I/O-bound: it scales first on fetches in flight, a gauge the crawler exports.
    [pods] = [x["pods"] for x in m.get("HorizontalPodAutoscaler", "crawler")["spec"]["metrics"] if x["type"] == "Pods"]
    from docspasta import metrics
    assert pods["metric"]["name"] == metrics.FETCHES_IN_FLIGHT._name
    assert pods["target"]["type"] == "AverageValue"
    connections = int(m.container_env("crawler")["CRAWLER_CONNECTIONS"] or 0)
    assert 0 < int(pods["target"]["averageValue"]) < connections, "scale out before a pod's pool is full"
    for name in SERVICES:
        pdb = m.get("PodDisruptionBudget", name)
        labels = m.workload(name)["spec"]["template"]["metadata"]["labels"]
        assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()


def test_bridge_ingress_is_sse_friendly(m: Manifests) -> None:
    ing = m.get("Ingress", "bridge")
    notes = ing["metadata"]["annotations"]
    assert notes["nginx.ingress.kubernetes.io/proxy-buffering"] == "off"
    for key in ("proxy-read-timeout", "proxy-send-timeout"):
        assert int(notes[f"nginx.ingress.kubernetes.io/{key}"]) >= 3600
    backend = ing["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    service = m.get("Service", backend["name"])
    assert backend["port"]["name"] in {p["name"] for p in service["spec"]["ports"]}
    assert m.container_env("bridge")["BRIDGE_TRUSTED_PROXIES"] == "1"


# --- network policies ------------------------------------------------------------------------

def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    if not all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expr in selector.get("matchExpressions", []):
        key, op, values = expr["key"], expr["operator"], expr.get("values", [])
        ok = {"In": key in labels and labels[key] in values, "NotIn": labels.get(key) not in values,
              "Exists": key in labels, "DoesNotExist": key not in labels}[op]
        if not ok:
            return False
    return True


def _pod_labels(m: Manifests, name: str) -> dict[str, str]:
    return dict(m.workload(name)["spec"]["template"]["metadata"]["labels"])


def _policies(m: Manifests, name: str, direction: str) -> list[dict[str, Any]]:
    return [p for p in m.of("NetworkPolicy")
            if _selects(p["spec"]["podSelector"], _pod_labels(m, name)) and direction in p["spec"]["policyTypes"]]


def _peers(m: Manifests, name: str, direction: str) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    key, peer_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    out = []
    for policy in _policies(m, name, direction):
        for rule in policy["spec"].get(key, []):
            assert peer_key in rule, f"{policy['metadata']['name']}: a rule without peers allows everyone"
            for peer in rule[peer_key]:
                out.append((peer, rule.get("ports", [])))
    return out


def _workloads_reaching(m: Manifests, name: str) -> set[str]:
    """Workloads in the namespace allowed in to ``name`` (and out of their own side)."""
    allowed = set()
    for peer, _ in _peers(m, name, "Ingress"):
        if "podSelector" in peer and "namespaceSelector" not in peer:
            allowed |= {w["metadata"]["name"] for w in m.workloads() if _selects(peer["podSelector"],
                                                                                 _pod_labels(m, w["metadata"]["name"]))}
    return allowed


def _egress_workloads(m: Manifests, name: str) -> set[str]:
    allowed = set()
    for peer, _ in _peers(m, name, "Egress"):
        if "podSelector" in peer and "namespaceSelector" not in peer:
            allowed |= {w["metadata"]["name"] for w in m.workloads() if _selects(peer["podSelector"],
                                                                                 _pod_labels(m, w["metadata"]["name"]))}
    return allowed


def test_default_deny_both_ways(m: Manifests) -> None:
    assert any(p["spec"]["podSelector"] == {} and set(p["spec"]["policyTypes"]) == {"Ingress", "Egress"}
               and not p["spec"].get("ingress") and not p["spec"].get("egress") for p in m.of("NetworkPolicy"))
    for w in m.workloads():
        assert _policies(m, w["metadata"]["name"], "Ingress") and _policies(m, w["metadata"]["name"], "Egress")


def test_who_reaches_whom(m: Manifests) -> None:
    assert _workloads_reaching(m, "crawler") == {"orchestrator"}
    assert _workloads_reaching(m, "renderer") == {"orchestrator"}
    # The bridge reads a finished job's pages with Processor.ListPages (docs/operations.md).
    assert _workloads_reaching(m, "processor") == {"orchestrator", "bridge"}
    assert _workloads_reaching(m, "orchestrator") == {"bridge"}
    # The orchestrators keep their jobs in the processors' PostgreSQL (the job store).
    assert _workloads_reaching(m, "postgres") == {"processor", "orchestrator"}
    assert _workloads_reaching(m, "redis") == {"bridge"}
    assert _workloads_reaching(m, "bridge") == set()  # only the ingress controller's namespace
    assert _egress_workloads(m, "orchestrator") == {"crawler", "processor", "postgres", "renderer"}
    assert _egress_workloads(m, "processor") == {"postgres"}
    assert _egress_workloads(m, "bridge") == {"orchestrator", "processor", "redis"}
    assert _egress_workloads(m, "crawler") == set()
    assert _egress_workloads(m, "renderer") == set()  # the public internet only, like the crawler
    for name in ("crawler", "processor", "orchestrator", "bridge", "postgres", "redis"):
        for peer, _ in _peers(m, name, "Ingress"):
            assert "ipBlock" not in peer, f"{name}: ingress by address"


def test_orchestrator_reaches_webhook_receivers_on_the_public_internet_only(m: Manifests) -> None:
    """Besides its peers, the orchestrator's one way out is 80/443 to public addresses."""
    blocks = [(peer["ipBlock"], ports) for peer, ports in _peers(m, "orchestrator", "Egress") if "ipBlock" in peer]
    assert blocks and all({p["port"] for p in ports} == {80, 443} for _, ports in blocks)
    for address in ("169.254.169.254", "10.96.0.1", "172.20.1.1", "192.168.1.1", "127.0.0.1", "::1", "fe80::1",
                    "fd00:ec2::254", "64:ff9b::a9fe:a9fe", "::ffff:10.0.0.1"):
        ip = ipaddress.ip_address(address)
        assert not any(ip in ipaddress.ip_network(b["cidr"]) and not any(ip in ipaddress.ip_network(e)
                                                                         for e in b.get("except", []))
                       for b, _ in blocks), address


@pytest.mark.parametrize("fetcher", ["crawler", "renderer"])
def test_crawler_egress_is_public_internet_and_dns_only(m: Manifests, fetcher: str) -> None:
    """Both workloads that fetch user-supplied URLs reach the public internet only."""
    blocks = []
    dns = False
    for peer, ports in _peers(m, fetcher, "Egress"):
        if "ipBlock" in peer:
            blocks.append(peer["ipBlock"])
        else:
            assert peer.get("namespaceSelector", {}).get("matchLabels") == {"kubernetes.io/metadata.name": "kube-system"}
            assert {p["port"] for p in ports} == {53}
            dns = True
    assert dns
    v4 = [b for b in blocks if ipaddress.ip_network(b["cidr"]).version == 4]
    assert [b["cidr"] for b in v4] == ["0.0.0.0/0"]
    excepted = [ipaddress.ip_network(c) for c in v4[0]["except"]]
    for cidr in CRAWLER_DENIED:
        assert any(ipaddress.ip_network(cidr).subnet_of(e) for e in excepted), cidr  # type: ignore[arg-type]

    def reachable(address: str) -> bool:
        ip = ipaddress.ip_address(address)
        return any(ip in ipaddress.ip_network(b["cidr"])
                   and not any(ip in ipaddress.ip_network(e) for e in b.get("except", [])) for b in blocks)

    for address in ("169.254.169.254", "10.96.0.1", "172.20.1.1", "192.168.1.1", "100.100.100.200", "127.0.0.1",
                    "fd00:ec2::254", "::1", "fe80::1",
                    # IPv4 inside IPv6: NAT64 (well-known, local-use) and 6to4 of 169.254.169.254 / 10.0.0.1.
                    "64:ff9b::a9fe:a9fe", "64:ff9b:1::a00:1", "2002:a9fe:a9fe::1", "::ffff:10.0.0.1"):
        assert not reachable(address), address
    for address in ("93.184.216.34", "8.8.8.8", "2606:4700::1111"):
        assert reachable(address), address


def test_every_pod_may_resolve_names(m: Manifests) -> None:
    for w in m.workloads():
        ports = [p for peer, ps in _peers(m, w["metadata"]["name"], "Egress") if "namespaceSelector" in peer
                 for p in ps]
        assert {"protocol": "UDP", "port": 53} in ports and {"protocol": "TCP", "port": 53} in ports


# --- settings --------------------------------------------------------------------------------

def settings_read(service: str) -> set[str]:
    """Every environment variable ``<service>/settings.py`` reads in ``from_env``."""
    tree = ast.parse((ROOT / service / "settings.py").read_text())
    names: set[str] = set()
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef) and fn.name == "from_env":
            for call in ast.walk(fn):
                if not isinstance(call, ast.Call):
                    continue
                func = call.func
                is_reader = isinstance(func, ast.Name) and func.id.startswith("env_")
                is_get = isinstance(func, ast.Attribute) and func.attr in ("get", "__getitem__") \
                    and isinstance(func.value, ast.Name) and func.value.id == "env"
                args = call.args[1:2] if is_reader else call.args[:1] if is_get else []
                for arg in args:
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        names.add(arg.value)
        if isinstance(fn, ast.Subscript) and isinstance(fn.value, ast.Name) and fn.value.id == "env" \
                and isinstance(fn.slice, ast.Constant):
            names.add(str(fn.slice.value))
    return names


def test_settings_are_discovered_from_every_service() -> None:
    modules = sorted(p.parent.name for p in ROOT.glob("*/settings.py"))
    assert set(SERVICES) <= set(modules)
    # The regex view agrees with the ast one (and would catch a reader the ast misses).
    for service in SERVICES:
        source = (ROOT / service / "settings.py").read_text()
        by_regex = set(re.findall(r"env_\w+\(\s*env,\s*\"([A-Z0-9_]+)\"", source))
        assert by_regex <= settings_read(service), service
        assert len(settings_read(service)) >= 5, service
    assert "DATABASE_URL" in settings_read("processor")
    assert "REDIS_URL" in settings_read("bridge")


@pytest.mark.parametrize("service", SERVICES)
def test_every_setting_the_code_reads_is_set(m: Manifests, service: str) -> None:
    env = m.container_env(service)
    given = set(env) | {k.removesuffix("_FILE") for k in env if k.endswith("_FILE")}
    missing = sorted(settings_read(service) - given - set(OPTIONAL_SETTINGS))
    assert not missing, f"{m.overlay}: {service} reads {missing} but its pod does not set them"
    binds = [k for k in settings_read(service) if k.endswith("_BIND") or k == "BRIDGE_HOST"]
    for key in binds:
        assert (env[key] or "").startswith(("0.0.0.0", "[::]")), f"{key} must listen on every interface"


def test_secret_and_config_references_resolve(m: Manifests) -> None:
    external = EXTERNAL_SECRETS.get(m.overlay, set())
    docs = (ROOT / "docs" / "operations.md").read_text()
    for w in m.workloads():
        for c in w["spec"]["template"]["spec"]["containers"]:
            defined = set()
            for source in c.get("envFrom", []):
                ref = source.get("configMapRef") or source.get("secretRef")
                kind = "ConfigMap" if "configMapRef" in source else "Secret"
                data = m.config_data(kind, ref["name"])
                assert data is not None, f"{w['metadata']['name']}: no {kind} {ref['name']}"
                defined |= set(data)
            for var in c.get("env", []):
                for used in re.findall(r"\$\(([A-Za-z0-9_]+)\)", var.get("value", "")):
                    assert used in defined, f"{var['name']} uses $({used}) before it is defined"
                defined.add(var["name"])
                ref = var.get("valueFrom", {}).get("secretKeyRef") or var.get("valueFrom", {}).get("configMapKeyRef")
                if not ref:
                    continue
                kind = "Secret" if "secretKeyRef" in var["valueFrom"] else "ConfigMap"
                data = m.config_data(kind, ref["name"])
                if data is None:
                    assert kind == "Secret" and ref["name"] in external, f"{var['name']}: no {kind} {ref['name']}"
                    assert ref["name"] in docs and ref["key"] in docs, f"document how to create {ref['name']}"
                else:
                    assert ref["key"] in data or ref.get("optional"), f"{ref['name']} lacks {ref['key']}"


def test_every_setting_is_in_the_operations_table() -> None:
    docs = (ROOT / "docs" / "operations.md").read_text()
    for service in SERVICES:
        undocumented = sorted(n for n in settings_read(service) if f"| `{n}` |" not in docs)
        assert not undocumented, f"docs/operations.md (Settings) lacks {undocumented}"


def test_metrics_ports_are_exposed_where_set(m: Manifests) -> None:
    for service in SERVICES:
        env = m.container_env(service)
        for key, value in env.items():
            if key.endswith("_METRICS_PORT") and value and value != "0":
                ports = {p["containerPort"]: p for p in m.container(service)["ports"]}
                assert int(value) in ports and ports[int(value)]["name"] == "metrics", f"{service}: {key}"


# --- the image -------------------------------------------------------------------------------

def test_dockerfile_builds_one_small_non_root_image() -> None:
    text = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM\s+(\S+)", text, re.M)
    # Every stage on one base: the virtualenv links to the base's interpreter.
    assert len(stages) >= 2 and all(s == "${BASE_IMAGE}" for s in stages), stages
    base = re.findall(r"^ARG BASE_IMAGE=(\S+)$", text, re.M)
    assert base and base[0].endswith("/python:3.11-slim"), "the default base: CPython 3.11 on Debian"
    user = re.findall(r"^USER\s+(\d+):(\d+)\s*$", text, re.M)
    assert user and user[-1][0] != "0", "the final stage runs as a numeric non-root user"
    assert "[dev]" not in text and ".[dev]" not in text
    assert re.search(r'^ENTRYPOINT \["python", "-m"\]', text, re.M)
    ignore = (ROOT / ".dockerignore").read_text().split()
    assert ignore[ignore.index("*") if "*" in ignore else 0] == "*", ".dockerignore is an allow-list"
    for package in SERVICES + ("docspasta",):
        assert f"!{package}/" in ignore and f"COPY {package} ./{package}" in text, package
    uid = int(user[-1][0])
    for overlay in OVERLAYS:
        for service in SERVICES:
            m = Manifests(overlay)
            assert m.workload(service)["spec"]["template"]["spec"]["securityContext"]["runAsUser"] == uid


# --- images, probes, secrets as files, Redis (issue 13) --------------------------------------

DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def containers(m: Manifests) -> Iterator[tuple[str, dict[str, Any]]]:
    for w in m.workloads():
        spec = w["spec"]["template"]["spec"]
        for c in spec.get("initContainers", []) + spec["containers"]:
            yield f"{w['metadata']['name']}/{c['name']}", c


def test_dev_runs_the_locally_built_image() -> None:
    m = Manifests("dev")
    for service in SERVICES:
        assert m.container(service)["image"] == "docspasta:dev", service
    # Nothing is left with the base's logical name (an `images:` entry that did not match).
    for where, c in containers(m):
        assert c["image"] != "docspasta" and not c["image"].startswith("docspasta@"), where


def test_production_pins_every_image_by_digest() -> None:
    m = Manifests("production")
    for where, c in containers(m):
        assert DIGEST.search(c["image"]), f"{where}: {c['image']} is not pinned by digest"
        assert c.get("imagePullPolicy") == "Always", where
    for service in SERVICES:
        assert m.container(service)["image"].startswith("ghcr.io/docspasta/docspasta@sha256:"), service


def test_probes_tolerate_a_slow_answer(m: Manifests) -> None:
    for where, c in containers(m):
        assert c.get("startupProbe"), f"{where}: startup probe"
        for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
            probe = c[kind]
            assert probe.get("timeoutSeconds", 1) >= 3, f"{where} {kind}: timeout"
            assert probe.get("failureThreshold", 3) >= 3, f"{where} {kind}: one miss must not act"
        ready = c["readinessProbe"]
        assert ready.get("periodSeconds", 10) * ready.get("failureThreshold", 3) >= 15, where
        start = c["startupProbe"]
        assert start.get("periodSeconds", 10) * start.get("failureThreshold", 3) >= 120, f"{where}: startup budget"


def test_pods_run_as_high_uids(m: Manifests) -> None:
    for w in m.workloads():
        psc = w["spec"]["template"]["spec"]["securityContext"]
        assert psc["runAsUser"] >= 10000 and psc["runAsGroup"] >= 10000, w["metadata"]["name"]


def test_secrets_are_files_not_environment_variables(m: Manifests) -> None:
    external = EXTERNAL_SECRETS.get(m.overlay, set())
    for w in m.workloads():
        pod = w["spec"]["template"]["spec"]
        secret_volumes = {v["name"]: v["secret"] for v in pod.get("volumes", []) if "secret" in v}
        for c in pod["containers"]:
            where = f"{w['metadata']['name']}/{c['name']}"
            for var in c.get("env", []):
                assert "secretKeyRef" not in var.get("valueFrom", {}), f"{where}: {var['name']} from a Secret"
            assert not any("secretRef" in s for s in c.get("envFrom", [])), where
            mounts = {v["mountPath"]: v for v in c.get("volumeMounts", []) if v["name"] in secret_volumes}
            for var in c.get("env", []):
                if not var["name"].endswith("_FILE"):
                    continue
                path = var["value"]
                directory, _, key = path.rpartition("/")
                assert directory in mounts, f"{where}: {var['name']}={path} is not in a mounted secret"
                assert mounts[directory].get("readOnly") is True
                volume = secret_volumes[mounts[directory]["name"]]
                assert key in {i["path"] for i in volume.get("items", [])}, f"{where}: {key}"
                item = next(i for i in volume["items"] if i["path"] == key)
                data = m.config_data("Secret", volume["secretName"])
                if data is None:
                    assert volume["secretName"] in external, f"{where}: no Secret {volume['secretName']}"
                else:
                    assert item["key"] in data, f"{volume['secretName']} lacks {item['key']}"
                assert volume.get("defaultMode", 0o644) & 0o007 == 0, f"{where}: secret readable by others"
    docs = (ROOT / "docs" / "operations.md").read_text()
    for name in external:
        assert name in docs


def test_dev_database_url_secret_matches_the_password() -> None:
    import base64
    m = Manifests("dev")
    [secret] = [s for s in m.of("Secret") if s["metadata"]["name"].startswith("docspasta-postgres-")]  # hashed
    data = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    assert data["database-url"] == (f"postgresql://docspasta:{data['password']}@postgres.{m.namespace}"
                                    ".svc.cluster.local:5432/docspasta")


def test_redis_has_a_maxmemory_below_its_limit_and_never_evicts(m: Manifests) -> None:
    c = m.container("redis")
    command = c["command"]
    assert command[:2] == ["sh", "-c"]
    script = command[2]
    assert "--maxmemory-policy noeviction" in script
    [ref] = [v["valueFrom"]["resourceFieldRef"] for v in c["env"] if v["name"] == "REDIS_MEMORY_LIMIT_MIB"]
    assert (ref["resource"], ref["divisor"], ref["containerName"]) == ("limits.memory", "1Mi", "redis")
    limit = c["resources"]["limits"]["memory"]
    assert limit.endswith(("Mi", "Gi"))
    mib = int(limit[:-2]) * (1024 if limit.endswith("Gi") else 1)
    # Kubernetes turns $$ into $, then sh computes maxmemory; run exactly that with echo.
    shell = script.replace("$$", "$").replace("exec redis-server", "exec echo", 1)
    out = subprocess.run(["sh", "-c", shell], env={"REDIS_MEMORY_LIMIT_MIB": str(mib), "PATH": "/usr/bin:/bin"},
                         capture_output=True, text=True, timeout=10, check=True).stdout.split()
    maxmemory = out[out.index("--maxmemory") + 1]
    assert maxmemory.endswith("mb") and 0.5 * mib <= int(maxmemory[:-2]) <= 0.75 * mib, (maxmemory, mib)
    assert out[out.index("--maxmemory-policy") + 1] == "noeviction"
    # The exporter the memory alert reads, reachable from the monitoring namespace only.
    exporter = next(x for x in m.workload("redis")["spec"]["template"]["spec"]["containers"]
                    if x["name"] == "redis-exporter")
    assert {"name": "metrics", "containerPort": 9121, "protocol": "TCP"} in exporter["ports"]


def test_monitoring_component_renders_with_an_overlay(tmp_path: Path) -> None:
    overlay = tmp_path / "with-monitoring"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: docspasta\n"
        f"resources: [{os.path.relpath(ROOT / 'k8s' / 'overlays' / 'production', overlay)}]\n"
        f"components: [{os.path.relpath(ROOT / 'k8s' / 'components' / 'monitoring', overlay)}]\n")
    out = subprocess.run([kubectl(), "kustomize", "--load-restrictor", "LoadRestrictionsNone", str(overlay)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    [rule] = [d for d in yaml.safe_load_all(out.stdout) if d and d["kind"] == "PrometheusRule"]
    assert rule["metadata"]["namespace"] == "docspasta"
    exprs = " ".join(r["expr"] for g in rule["spec"]["groups"] for r in g["rules"])
    from docspasta import metrics
    assert "redis_memory_max_bytes" in exprs and metrics.FETCHES_IN_FLIGHT._name in exprs
