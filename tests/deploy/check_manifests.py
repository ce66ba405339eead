#!/usr/bin/python3
"""Offline schema test of deploy/kubernetes: builds each kustomization with `kubectl
kustomize` and checks every object against the typed models of Debian's python3-kubernetes
(the API's OpenAPI types): every field name known, every value of the right type, required
fields present; then the llmload-specific rules (Indexed Job, completions = parallelism =
--shards, the key from a Secret, non-root). Usage: check_manifests.py REPO_ROOT"""
import os
import re
import subprocess
import sys

import yaml
from kubernetes import client

PRIMITIVE = {"str": str, "int": int, "bool": bool, "float": (int, float)}
KINDS = {("batch/v1", "Job"): "V1Job", ("v1", "Secret"): "V1Secret",
         ("v1", "PersistentVolumeClaim"): "V1PersistentVolumeClaim",
         ("v1", "ConfigMap"): "V1ConfigMap"}
errors = []


def check(value, type_name, path):
    if value is None:
        return
    m = re.match(r"list\[(.*)\]$", type_name)
    if m:
        if not isinstance(value, list):
            errors.append(f"{path}: a list expected")
            return
        for i, v in enumerate(value):
            check(v, m.group(1), f"{path}[{i}]")
        return
    m = re.match(r"dict\(str, (.*)\)$", type_name)
    if m:
        if not isinstance(value, dict):
            errors.append(f"{path}: a map expected")
            return
        for k, v in value.items():
            check(v, m.group(1), f"{path}.{k}")
        return
    if type_name == "object":
        return
    if type_name in PRIMITIVE:
        if not isinstance(value, PRIMITIVE[type_name]) or (
                type_name == "int" and isinstance(value, bool)):
            errors.append(f"{path}: {type_name} expected, got {value!r}")
        return
    model = getattr(client, type_name)
    if not isinstance(value, dict):
        errors.append(f"{path}: an object ({type_name}) expected")
        return
    by_json = {j: a for a, j in model.attribute_map.items()}
    for key, v in value.items():
        if key not in by_json:
            errors.append(f"{path}.{key}: no such field in {type_name}")
            continue
        check(v, model.openapi_types[by_json[key]], f"{path}.{key}")


def required(doc, model_name, where):
    """The client's own deserialiser: raises on a missing required field."""
    api = client.ApiClient()
    try:
        api._ApiClient__deserialize(doc, model_name)
    except (ValueError, TypeError) as e:
        errors.append(f"{where}: {e}")


def objects(root, overlay):
    out = subprocess.run(["kubectl", "kustomize", os.path.join(root, overlay)],
                         capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        errors.append(f"kubectl kustomize {overlay}: {out.stderr.strip()}")
        return []
    return [d for d in yaml.safe_load_all(out.stdout) if d]


def llmload_rules(job, where):
    spec = job["spec"]
    args = spec["template"]["spec"]["containers"][0]["args"]
    shards = [a for a in args if a.startswith("--shards")]
    n = int(shards[0].split("=")[1]) if shards else None
    if spec.get("completionMode") != "Indexed":
        errors.append(f"{where}: completionMode must be Indexed")
    if not (spec.get("completions") == spec.get("parallelism") == n):
        errors.append(f"{where}: completions, parallelism and --shards must be the same N")
    if not any(a.startswith("--start-at=$(START_AT)") for a in args):
        errors.append(f"{where}: --start-at must come from START_AT")
    env = {e["name"]: e for e in spec["template"]["spec"]["containers"][0]["env"]}
    if "secretKeyRef" not in env.get("MODEL_KEY", {}).get("valueFrom", {}):
        errors.append(f"{where}: MODEL_KEY must come from a Secret")
    if not spec["template"]["spec"]["securityContext"].get("runAsNonRoot"):
        errors.append(f"{where}: the pod must run as non-root")
    for a in args:
        if "key" in a.lower() and "file" not in a:
            errors.append(f"{where}: an argument looks like a key: {a}")


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    k8s = os.path.join(root, "deploy", "kubernetes")
    docs = []
    for overlay in ("base", "with-volume"):
        docs += [(overlay, d) for d in objects(k8s, overlay)]
    with open(os.path.join(k8s, "with-volume", "merge-job.yaml")) as f:
        docs += [("merge-job.yaml", d) for d in yaml.safe_load_all(f) if d]
    jobs = 0
    for where, d in docs:
        key = (d.get("apiVersion"), d.get("kind"))
        if key not in KINDS:
            errors.append(f"{where}: unexpected {key}")
            continue
        name = f"{where}: {d['kind']}/{d['metadata']['name']}"
        check(d, KINDS[key], name)
        required(d, KINDS[key], name)
        if d["kind"] == "Job" and d["metadata"]["name"] == "llmload":
            llmload_rules(d, name)
            jobs += 1
    if jobs != 2:
        errors.append(f"expected the workers' Job in both kustomizations, found {jobs}")
    for e in errors:
        print("deploy:", e)
    print(f"{len(docs)} objects checked, {len(errors)} problems")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
