// Validates Kubernetes objects against the Kubernetes OpenAPI schemas (kubernetes-models) and, for ServiceMonitor
// and PrometheusRule, the Prometheus Operator's CRD schemas (@kubernetes-models/prometheus-operator).
//   node validate-k8s.mjs < rendered.yaml            every document of a multi-document YAML stream
//   node validate-k8s.mjs --prometheus-rule rules.yaml   a rules file, as the spec of a PrometheusRule
// Prints one line per object ("ok <kind>/<name>" or "error <kind>/<name>: <message>"); exits 1 on any error.
import { readFileSync } from "node:fs";
import { parseAllDocuments, parse } from "yaml";

// apiVersion -> the module folder of its models.
const groups = {
  v1: "kubernetes-models/v1",
  "apps/v1": "kubernetes-models/apps/v1",
  "autoscaling/v2": "kubernetes-models/autoscaling/v2",
  "policy/v1": "kubernetes-models/policy/v1",
  "networking.k8s.io/v1": "kubernetes-models/networking.k8s.io/v1",
  "monitoring.coreos.com/v1": "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1",
};

async function validate(object) {
  const id = `${object?.kind}/${object?.metadata?.name}`;
  const folder = groups[object?.apiVersion];
  if (!folder || !/^[A-Za-z]+$/.test(object?.kind ?? "")) {
    return `error ${id}: no schema known for apiVersion ${object?.apiVersion}`;
  }
  let model;
  try {
    model = (await import(`${folder}/${object.kind}`))[object.kind];
  } catch {
    return `error ${id}: ${object.apiVersion} has no kind ${object.kind}`;
  }
  try {
    new model(object).validate();
    return `ok ${id}`;
  } catch (e) {
    return `error ${id}: ${e.message}`;
  }
}

let objects;
if (process.argv[2] === "--prometheus-rule") {
  const rules = parse(readFileSync(process.argv[3], "utf8"));
  objects = [{ apiVersion: "monitoring.coreos.com/v1", kind: "PrometheusRule", metadata: { name: "meteragent" }, spec: rules }];
} else {
  const documents = parseAllDocuments(readFileSync(0, "utf8"));
  const broken = documents.flatMap((d) => d.errors);
  if (broken.length > 0) {
    console.log(`error yaml: ${broken.map((e) => e.message).join("; ")}`);
    process.exit(1);
  }
  objects = documents.map((d) => d.toJS()).filter((o) => o !== null);
}

let failed = objects.length === 0;
for (const object of objects) {
  const line = await validate(object);
  failed ||= line.startsWith("error");
  console.log(line);
}
process.exit(failed ? 1 : 0);
