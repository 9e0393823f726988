// Validates Helm values against a chart's values.schema.json with ajv (JSON Schema draft-07, as Helm uses). Helm checks
// the schema against the merged values, so each override file is merged over the defaults first, as Helm merges
// (maps key by key, lists and scalars replaced, null removes a key).
//   node validate-values.mjs <values.schema.json> <values.yaml> [<override.yaml>...]
// Prints "ok <file>" or "error <file>: <path> <message>" for the defaults and each override; exits 1 on any error.
import { readFileSync } from "node:fs";
import Ajv from "ajv";
import { parse } from "yaml";

const isMap = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

function merge(base, override) {
  const merged = { ...base };
  for (const [key, value] of Object.entries(override)) {
    if (value === null) {
      delete merged[key];
    } else if (isMap(value) && isMap(merged[key])) {
      merged[key] = merge(merged[key], value);
    } else {
      merged[key] = value;
    }
  }
  return merged;
}

const read = (file) => parse(readFileSync(file, "utf8")) ?? {};
const [schemaFile, defaultsFile, ...overrideFiles] = process.argv.slice(2);
const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
const validate = ajv.compile(JSON.parse(readFileSync(schemaFile, "utf8")));
const defaults = read(defaultsFile);
let failed = false;
for (const [file, values] of [[defaultsFile, defaults], ...overrideFiles.map((f) => [f, merge(defaults, read(f))])]) {
  if (validate(values)) {
    console.log(`ok ${file}`);
  } else {
    failed = true;
    for (const error of validate.errors) {
      console.log(`error ${file}: ${error.instancePath || "/"} ${error.message} ${JSON.stringify(error.params)}`);
    }
  }
}
process.exit(failed ? 1 : 0);
