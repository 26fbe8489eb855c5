"""Check deploy/k8s/ without a cluster: values.yaml against the chart's schema, the manifests' shapes.

    python deploy/k8s/check.py PATH/TO/zero-to-jupyterhub-k8s/jupyterhub

The chart's folder gives its defaults (values.yaml) and its schema (values.schema.yaml):
values.yaml here is merged over the defaults as Helm merges them (maps key by key, lists
replaced) and the result checked against the schema, as `helm template` and `helm install`
check it. The manifests are parsed, and each must have the fields Kubernetes requires of
its kind, and name only volumes, claims and Secrets that they or the chart define.
"""

from __future__ import annotations

import sys
from pathlib import Path

import jsonschema
import yaml

HERE = Path(__file__).resolve().parent
REQUIRED = {
    "PersistentVolumeClaim": [("spec", "accessModes"), ("spec", "resources", "requests", "storage")],
    "Secret": [("metadata", "name")],
    "Deployment": [("spec", "selector"), ("spec", "template", "spec", "containers")],
    "Service": [("spec", "selector"), ("spec", "ports")],
    "Job": [("spec", "template", "spec", "containers"), ("spec", "template", "spec", "restartPolicy")],
}


def dig(doc, path):
    for key in path:
        if not isinstance(doc, dict) or key not in doc:
            return None
        doc = doc[key]
    return doc


def merged(defaults, ours):
    """Helm's merge of user values over a chart's defaults."""
    if not isinstance(defaults, dict) or not isinstance(ours, dict):
        return ours
    out = dict(defaults)
    for key, value in ours.items():
        out[key] = merged(defaults.get(key), value) if key in defaults else value
    return out


def problems(chart):
    found = []
    values = yaml.safe_load((HERE / "values.yaml").read_text())
    schema = yaml.safe_load((Path(chart) / "values.schema.yaml").read_text())
    defaults = yaml.safe_load((Path(chart) / "values.yaml").read_text())
    for error in jsonschema.Draft7Validator(schema).iter_errors(merged(defaults, values)):
        found.append(f"values.yaml: {'.'.join(map(str, error.path))}: {error.message}")
    docs = [d for name in ("course.yaml", "grading-job.yaml") for d in yaml.safe_load_all((HERE / name).read_text())]
    claims = {d["metadata"]["name"] for d in docs if d["kind"] == "PersistentVolumeClaim"}
    secrets = {d["metadata"]["name"] for d in docs if d["kind"] == "Secret"}
    for volume in values["singleuser"]["storage"]["extraVolumes"]:
        if volume["persistentVolumeClaim"]["claimName"] not in claims:
            found.append(f"values.yaml: the claim {volume['persistentVolumeClaim']['claimName']} is not defined")
    for doc in docs:
        where = f"{doc['kind']} {doc['metadata'].get('name') or doc['metadata'].get('generateName')}"
        for path in REQUIRED.get(doc["kind"], []):
            if dig(doc, path) is None:
                found.append(f"{where}: no {'.'.join(path)}")
        pod = dig(doc, ("spec", "template", "spec"))
        if pod:
            volumes = {v["name"]: v for v in pod.get("volumes", [])}
            for volume in volumes.values():
                claim = dig(volume, ("persistentVolumeClaim", "claimName"))
                if claim and claim not in claims:
                    found.append(f"{where}: the claim {claim} is not defined")
            for container in pod["containers"]:
                for mount in container.get("volumeMounts", []):
                    if mount["name"] not in volumes:
                        found.append(f"{where}: the mount {mount['name']} names no volume")
                for env in container.get("env", []):
                    secret = dig(env, ("valueFrom", "secretKeyRef", "name"))
                    if secret and secret not in secrets:
                        found.append(f"{where}: the Secret {secret} is not defined")
        if doc["kind"] == "Deployment":
            labels = dig(doc, ("spec", "template", "metadata", "labels")) or {}
            if any(labels.get(k) != v for k, v in doc["spec"]["selector"]["matchLabels"].items()):
                found.append(f"{where}: its selector does not match its pods' labels")
    return found


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    found = problems(sys.argv[1])
    print("\n".join(found) or "deploy/k8s: values.yaml matches the chart's schema; the manifests are whole")
    sys.exit(1 if found else 0)
