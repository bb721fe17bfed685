// What an ERP developer writes with mainstream JavaScript libraries, run against relais by
// tests/e2e/test_cloudevents_binding.py (no relais code here):
//
//  - `structured` events: built with the CloudEvents SDK (npm `cloudevents`), serialized by its
//    Kafka binding in structured mode (Kafka.structured: content-type
//    application/cloudevents+json, the whole event as the value), sent with KafkaJS;
//  - `framed` events: binary mode (ce_* headers, content-type application/json), the data
//    serialized by @kafkajs/confluent-schema-registry against the schema registered for the
//    event type in a Confluent-compatible registry (subject <topic>-<type>): magic byte 0,
//    the 4-byte schema id, the JSON.
//
// Then it reads the status topic (with the SDK's Kafka.toEvent, binary or structured mode) until
// every expected event id has a terminal status and writes {"statuses": [...], "complete": bool, "schemaIds": {...}} to --report.
//
// node ce_producer.mjs --brokers H:P --topic T --status-topic S --events events.json
//      --report report.json [--registry URL] [--timeout-ms 90000]
import { readFileSync, writeFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { CloudEvent, Kafka as CloudEventsKafka } from "cloudevents";
import { Kafka, logLevel } from "kafkajs";
import { SchemaRegistry, SchemaType } from "@kafkajs/confluent-schema-registry";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

const TERMINAL = new Set(["submitted", "rejected", "failed", "dead_lettered"]);

function args(argv) {
  const out = {};
  for (let i = 2; i < argv.length; i += 2) out[argv[i].replace(/^--/, "")] = argv[i + 1];
  return out;
}

function structuredMessage(event) {
  const ce = new CloudEvent({
    specversion: event.specversion,
    id: event.id,
    type: event.type,
    source: event.source,
    subject: event.subject,
    time: event.time,
    datacontenttype: "application/json",
    partitionkey: event.subject,
    data: event.data,
  });
  const message = CloudEventsKafka.structured(ce);
  return { key: message.key, value: message.value, headers: message.headers };
}

async function framedMessage(registry, topic, event) {
  const id = await registry.getLatestSchemaId(`${topic}-${event.type}`);
  const value = await registry.encode(id, event.data);
  const headers = {
    ce_specversion: event.specversion,
    ce_id: event.id,
    ce_type: event.type,
    ce_source: event.source,
    ce_subject: event.subject,
    ce_time: event.time,
    "content-type": "application/json",
  };
  return { id, message: { key: event.subject, value, headers } };
}

async function main() {
  const a = args(process.argv);
  const spec = JSON.parse(readFileSync(a.events, "utf8"));
  const timeoutMs = Number(a["timeout-ms"] ?? 90000);
  const kafka = new Kafka({ clientId: "erp-sdk", brokers: a.brokers.split(","), logLevel: logLevel.NOTHING });
  const messages = (spec.structured ?? []).map(structuredMessage);
  const schemaIds = {};
  if ((spec.framed ?? []).length) {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    const registry = new SchemaRegistry({ host: a.registry }, { [SchemaType.JSON]: { ajvInstance: ajv } });
    for (const event of spec.framed) {
      const { id, message } = await framedMessage(registry, a.topic, event);
      schemaIds[event.id] = id;
      messages.push(message);
    }
  }
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: a.topic, messages });
  await producer.disconnect();

  const expected = new Set(spec.expect);
  const statuses = [];
  const done = new Set();
  const consumer = kafka.consumer({ groupId: `erp-sdk-${randomUUID()}`, sessionTimeout: 6000, heartbeatInterval: 1000 });
  await consumer.connect();
  await consumer.subscribe({ topic: a["status-topic"], fromBeginning: true });
  let finish;
  const finished = new Promise((resolve) => (finish = resolve));
  await consumer.run({
    eachMessage: async ({ message }) => {
      // Read back with the SDK: it tells binary from structured mode by content-type.
      const headers = Object.fromEntries(
        Object.entries(message.headers ?? {}).map(([k, v]) => [k, v?.toString("utf8")]),
      );
      const ce = CloudEventsKafka.toEvent({
        key: message.key?.toString("utf8"),
        value: message.value.toString("utf8"),
        headers,
        timestamp: message.timestamp,
      });
      const body = typeof ce.data === "string" ? JSON.parse(ce.data) : ce.data;
      statuses.push({ ...body, contentType: headers["content-type"] ?? null, ceId: ce.id, ceType: ce.type });
      if (expected.has(body.eventId) && TERMINAL.has(body.status)) done.add(body.eventId);
      if (done.size === expected.size) finish();
    },
  });
  const timer = setTimeout(finish, timeoutMs);
  await finished;
  clearTimeout(timer);
  await consumer.disconnect();
  writeFileSync(a.report, JSON.stringify({ statuses, complete: done.size === expected.size, schemaIds }));
}

main().catch((err) => {
  console.error(err?.stack ?? String(err));
  process.exit(2);
});
