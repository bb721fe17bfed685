// What an ERP developer does with relais's event JSON Schemas, with mainstream tools only:
//  1. validate documents with ajv (JSON Schema 2020-12, formats on);
//  2. generate TypeScript types (json-schema-to-typescript) and Java classes (quicktype, Jackson).
// The Python test (tests/unit/events/test_schema_codegen.py) compiles the generated code with tsc and
// javac and judges the report. Usage:
//   node check.mjs --schemas DIR --documents FILE.json --out DIR --report FILE.json
// FILE.json: [{"path": ".../x.json", "schema": "status.v1.json"}, ...] (a path, or "value" inline).
import { readFileSync, writeFileSync, mkdirSync, readdirSync } from "node:fs";
import { join, basename } from "node:path";
import { parseArgs } from "node:util";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { compile } from "json-schema-to-typescript";
import {
  quicktypeMultiFile,
  InputData,
  JSONSchemaInput,
  FetchingJSONSchemaStore,
} from "quicktype-core";

const { values: args } = parseArgs({
  options: {
    schemas: { type: "string" },
    documents: { type: "string" },
    out: { type: "string" },
    report: { type: "string" },
  },
});

const files = readdirSync(args.schemas).filter((f) => f.endsWith(".json")).sort();
const schemas = Object.fromEntries(
  files.map((f) => [f, JSON.parse(readFileSync(join(args.schemas, f), "utf8"))]),
);

// ---- 1. ajv ------------------------------------------------------------------------------
const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
addFormats(ajv);
ajv.addKeyword({ keyword: "x-enum-labels", schemaType: "array" });
ajv.addKeyword({ keyword: "x-enum-descriptions", schemaType: ["array", "object"] });
for (const [file, schema] of Object.entries(schemas)) ajv.addSchema(schema, file);
const validations = [];
for (const doc of JSON.parse(readFileSync(args.documents, "utf8"))) {
  const validate = ajv.getSchema(doc.schema);
  if (!validate) {
    validations.push({ ...doc, valid: false, errors: [`no schema ${doc.schema}`] });
    continue;
  }
  const value = doc.path ? JSON.parse(readFileSync(doc.path, "utf8")) : doc.value;
  const valid = validate(value);
  const errors = (validate.errors || []).map((e) => `${e.instancePath} ${e.message}`);
  validations.push({ path: doc.path, name: doc.name, schema: doc.schema, valid, errors });
}

// ---- 2. code generation ------------------------------------------------------------------
const typeName = (file) =>
  basename(file, ".json")
    .split(/[^A-Za-z0-9]+/)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join("");
const javaPackage = (file) =>
  "fr.cfa.relais." + basename(file, ".json").replace(/[^A-Za-z0-9]+/g, "_").toLowerCase();

const tsDir = join(args.out, "ts");
mkdirSync(tsDir, { recursive: true });
const generated = { typescript: [], java: [] };
for (const [file, schema] of Object.entries(schemas)) {
  const ts = await compile(structuredClone(schema), typeName(file), {
    bannerComment: `// Generated from schemas/events/${file} by json-schema-to-typescript.`,
    cwd: args.schemas,
    additionalProperties: true,
  });
  const tsFile = join(tsDir, basename(file, ".json").replaceAll(".", "_") + ".ts");
  writeFileSync(tsFile, ts);
  generated.typescript.push({ schema: file, file: tsFile, type: typeName(file) });

  const input = new JSONSchemaInput(new FetchingJSONSchemaStore());
  await input.addSource({ name: typeName(file), schema: JSON.stringify(schema) });
  const inputData = new InputData();
  inputData.addInput(input);
  const pkg = javaPackage(file);
  const out = await quicktypeMultiFile({
    inputData,
    lang: "java",
    rendererOptions: { package: pkg },
  });
  const javaDir = join(args.out, "java", ...pkg.split("."));
  mkdirSync(javaDir, { recursive: true });
  for (const [name, result] of out) {
    const path = join(javaDir, name);
    writeFileSync(path, result.lines.join("\n"));
    generated.java.push({ schema: file, file: path, package: pkg });
  }
}

writeFileSync(args.report, JSON.stringify({ validations, generated }, null, 2));
