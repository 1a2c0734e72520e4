"""What the Kubernetes schemas cannot check in the rendered overlays (deploy/check.sh renders
them): every pod is bounded, non-root and probed; the province runs each context as its own
Deployment behind the gateway, migrated by its own Job before it starts and never by itself;
network policies let only the gateway in from outside and each internal listener only from its
peers; the gateway routes every public service of proto/ to the Deployment of its context.
Prints each problem and exits 1 when there is any."""

import argparse
import re
import sys
import tomllib
from pathlib import Path

import yaml

CONTEXTS = ["grouping", "points", "budget", "settlement", "supervision"]
# Who calls a context's internal contracts (gateway/src/config.rs, [peers]).
INTERNAL_CALLERS = {
    "grouping": ["settlement"],
    "points": ["settlement"],
    "budget": ["settlement"],
    "settlement": ["supervision"],
    "supervision": ["settlement"],
}
HEALTH_PORT = 50053

problems = []


def problem(where, what):
    problems.append(f"{where}: {what}")


def load(path):
    return [doc for doc in yaml.safe_load_all(Path(path).read_text()) if doc]


def index(objects):
    return {(o["kind"], o["metadata"]["name"]): o for o in objects}


def pod_spec(obj):
    return obj["spec"]["template"]["spec"]


def check_pods(name, objects):
    """Every container of every Deployment and Job: tagged image, resources, non-root, read-only
    root; every long-running container probed."""
    for obj in objects:
        if obj["kind"] not in ("Deployment", "Job"):
            continue
        where = f"{name} {obj['kind']}/{obj['metadata']['name']}"
        spec = pod_spec(obj)
        if not spec.get("securityContext", {}).get("runAsNonRoot"):
            problem(where, "pod securityContext.runAsNonRoot is not true")
        if spec.get("automountServiceAccountToken") is not False:
            problem(where, "mounts a service account token it does not need")
        containers = spec["containers"] + spec.get("initContainers", [])
        for container in containers:
            cwhere = f"{where} container {container['name']}"
            image = container["image"]
            tag = image.rsplit("/", 1)[-1].partition(":")[2]
            if not tag or tag == "latest":
                problem(cwhere, f"image {image} is not pinned to a version")
            resources = container.get("resources", {})
            for kind in ("cpu", "memory"):
                if kind not in resources.get("requests", {}):
                    problem(cwhere, f"no {kind} request")
            if "memory" not in resources.get("limits", {}):
                problem(cwhere, "no memory limit")
            security = container.get("securityContext", {})
            if security.get("allowPrivilegeEscalation") is not False:
                problem(cwhere, "allowPrivilegeEscalation is not false")
            if not security.get("readOnlyRootFilesystem"):
                problem(cwhere, "root filesystem is writable")
            if security.get("capabilities", {}).get("drop") != ["ALL"]:
                problem(cwhere, "capabilities are not all dropped")
        if obj["kind"] == "Deployment":
            for container in spec["containers"]:
                for probe in ("readinessProbe", "livenessProbe"):
                    if probe not in container:
                        problem(f"{where} container {container['name']}", f"no {probe}")
                if container["image"].startswith("registry.example/medpay"):
                    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                        port = container.get(probe, {}).get("grpc", {}).get("port")
                        if port != HEALTH_PORT:
                            problem(where, f"{probe} is not a gRPC probe of port {HEALTH_PORT}")


def check_references(name, objects, extra=()):
    """Every ConfigMap and Secret a pod mounts or reads exists in the render (or `extra`)."""
    have = {(o["kind"], o["metadata"]["name"]) for o in list(objects) + list(extra)}
    for obj in objects:
        if obj["kind"] not in ("Deployment", "Job"):
            continue
        spec = pod_spec(obj)
        wanted = set()
        for volume in spec.get("volumes", []):
            if "configMap" in volume:
                wanted.add(("ConfigMap", volume["configMap"]["name"]))
            if "secret" in volume:
                wanted.add(("Secret", volume["secret"]["secretName"]))
        for container in spec["containers"] + spec.get("initContainers", []):
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    wanted.add(("Secret", ref["name"]))
        for kind, ref in sorted(wanted - have):
            problem(f"{name} {obj['kind']}/{obj['metadata']['name']}", f"{kind} {ref} is not shipped")


def config_of(name, objects):
    configs = [o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"].startswith("medpay-config")]
    if len(configs) != 1:
        problem(name, f"{len(configs)} medpay-config ConfigMaps instead of one")
        return {}
    return tomllib.loads(configs[0]["data"]["medpay.toml"])


def args_of(container):
    return container.get("args", [])


def check_province(name, objects):
    by = index(objects)
    config = config_of(name, objects)
    if config.get("database", {}).get("migrate", True):
        problem(name, "medpay.toml lets the services migrate at start (database.migrate)")
    health = config.get("server", {}).get("health_listen", "")
    if not health.endswith(f":{HEALTH_PORT}"):
        problem(name, f"medpay.toml's server.health_listen {health!r} is not the probes' port {HEALTH_PORT}")
    for target in CONTEXTS + ["keys"]:
        job = by.get(("Job", f"medpay-migrate-{target}"))
        if job is None:
            problem(name, f"no migration Job for {target}")
        elif args_of(pod_spec(job)["containers"][0])[-2:] != ["migrate", target]:
            problem(name, f"Job medpay-migrate-{target} does not run `medpay migrate {target}`")
    for context in CONTEXTS:
        deployment = by.get(("Deployment", f"medpay-{context}"))
        if deployment is None:
            problem(name, f"no Deployment for {context}")
            continue
        spec = pod_spec(deployment)
        if args_of(spec["containers"][0])[-2:] != ["serve", context]:
            problem(name, f"Deployment medpay-{context} does not run `medpay serve {context}`")
        waits = [c for c in spec.get("initContainers", []) if "--check" in args_of(c)]
        if not waits or args_of(waits[0])[3:5] != [context, "keys"]:
            problem(name, f"Deployment medpay-{context} does not wait for its migrations")
        for kind in ("Service", "PodDisruptionBudget", "HorizontalPodAutoscaler", "NetworkPolicy"):
            if (kind, f"medpay-{context}") not in by:
                problem(name, f"no {kind} for {context}")
        hpa = by.get(("HorizontalPodAutoscaler", f"medpay-{context}"))
        if hpa and hpa["spec"].get("minReplicas", 1) < 2:
            problem(name, f"{context} may scale below two replicas")
        if "replicas" in deployment["spec"]:
            problem(name, f"Deployment medpay-{context} sets replicas, which its autoscaler owns")


def check_network_policies(name, objects, contexts):
    by = index(objects)
    deny = by.get(("NetworkPolicy", "medpay-default-deny"))
    if deny is None or deny["spec"]["podSelector"] != {} or deny["spec"].get("ingress"):
        problem(name, "no default-deny ingress policy for every pod")
    for obj in objects:
        if obj["kind"] != "NetworkPolicy":
            continue
        for rule in obj["spec"].get("ingress", []):
            if "from" not in rule and obj["metadata"]["name"] != "medpay-gateway":
                problem(name, f"NetworkPolicy {obj['metadata']['name']} admits anyone")
    for context in contexts:
        policy = by.get(("NetworkPolicy", f"medpay-{context}"))
        if policy is None:
            continue
        for rule in policy["spec"]["ingress"]:
            ports = {p["port"] for p in rule.get("ports", [])}
            components = {
                peer.get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/component")
                for peer in rule.get("from", [])
            }
            if "grpc" in ports and components != {"gateway"}:
                problem(name, f"{context}'s public port is open to {components}, not the gateway only")
            if "internal" in ports and components != set(INTERNAL_CALLERS[context]):
                problem(name, f"{context}'s internal port is open to {components}, not its callers")
        opened = {p["port"] for rule in policy["spec"]["ingress"] for p in rule.get("ports", [])}
        if bool(INTERNAL_CALLERS[context]) != ("internal" in opened):
            problem(name, f"{context}'s internal port rule does not match its callers")


def public_services(proto):
    """(package, service) of every public contract: proto/medpay/<package>/v1/*.proto."""
    found = []
    for path in sorted(Path(proto).glob("medpay/*/v1/*.proto")):
        text = path.read_text()
        package = re.search(r"^package\s+([\w.]+);", text, re.M).group(1)
        found += [(package, service) for service in re.findall(r"^service\s+(\w+)", text, re.M)]
    return found


def check_gateway_routes(name, objects, proto, clusters_of):
    configs = [o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"].startswith("medpay-gateway-config")]
    if len(configs) != 1:
        problem(name, "no medpay-gateway-config ConfigMap")
        return
    envoy = yaml.safe_load(configs[0]["data"]["envoy.yaml"])
    listeners = {l["name"]: l for l in envoy["static_resources"]["listeners"]}
    clusters = {c["name"] for c in envoy["static_resources"]["clusters"]}
    manager = listeners["edge"]["filter_chains"][0]["filters"][0]["typed_config"]
    filters = [f["name"] for f in manager["http_filters"]]
    if filters[:1] != ["envoy.filters.http.grpc_web"] or filters[-1:] != ["envoy.filters.http.router"]:
        problem(name, f"the gateway's filters {filters} do not translate grpc-web before routing")
    routes = [
        (r["match"]["prefix"], r["route"]["cluster"])
        for host in manager["route_config"]["virtual_hosts"]
        for r in host["routes"]
    ]
    for _, cluster in routes:
        if cluster not in clusters:
            problem(name, f"the gateway routes to an undefined cluster {cluster}")
    for package, service in public_services(proto):
        path = f"/{package}.{service}/"
        matched = next((c for prefix, c in routes if path.startswith(prefix)), None)
        expected = clusters_of(package)
        if matched != expected:
            problem(name, f"the gateway routes {path} to {matched}, not {expected}")


def main():
    parser = argparse.ArgumentParser()
    for arg in ("--proto", "--dev", "--province", "--staging", "--secrets"):
        parser.add_argument(arg, required=True)
    args = parser.parse_args()
    dev, province, staging, secrets = (load(p) for p in (args.dev, args.province, args.staging, args.secrets))

    def province_cluster(package):
        context = package.split(".")[1]
        return context if context in CONTEXTS else "budget"

    for name, objects in (("province", province), ("staging", staging)):
        check_pods(name, objects)
        check_references(name, objects, extra=secrets)
        check_province(name, objects)
        check_network_policies(name, objects, CONTEXTS)
        check_gateway_routes(name, objects, args.proto, province_cluster)
    check_pods("dev", dev)
    check_references("dev", dev)
    check_network_policies("dev", dev, [])
    check_gateway_routes("dev", dev, args.proto, lambda _: "medpay")
    dev_config = config_of("dev", dev)
    if not dev_config.get("database", {}).get("migrate", True):
        problem("dev", "the one `medpay up` pod does not migrate its SQLite file")
    if not any(o["kind"] == "Deployment" and args_of(pod_spec(o)["containers"][0])[-1:] == ["up"] for o in dev):
        problem("dev", "no `medpay up` Deployment")

    for line in problems:
        print(f"deploy: {line}", file=sys.stderr)
    if problems:
        sys.exit(1)
    print(f"deploy: structure of dev, province and staging as intended ({len(public_services(args.proto))} public services routed)")


if __name__ == "__main__":
    main()
