// ERP integration sample (TypeScript, KafkaJS): publish one CFA event to relais, read its statuses.
//
//   npm ci && npm run build
//   node dist/erpClient.js --bootstrap localhost:9092 --event dossier.json \
//       [--secret HMAC_SECRET] [--input-topic cfa.events.v1] [--status-topic relais.status.v1]
//   node dist/erpClient.js sign --secret S --headers headers.json --value value.bin
//
// The event file is a CloudEvents structured JSON event (schemas/examples/). It is published in
// binary content mode: key = subject (the CFA's dossier id), headers ce_* + content-type, value =
// the JSON of `data`. The statuses of this event (header ce_correlationid = its id) are printed as
// JSON lines until a terminal one; exit code 0 when it is `submitted`, 1 for another terminal
// status, 2 on timeout. Run by tests/e2e/test_erp_samples.py against a real broker and relais.
import { readFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { Kafka, logLevel, type IHeaders } from "kafkajs";
import { sign } from "./signature.js";

const TERMINAL = new Set(["submitted", "rejected", "failed", "dead_lettered"]);
const STATUS_PREFIX = "fr.relais.status.";

interface CloudEvent {
  id: string;
  subject: string;
  data: unknown;
  [attribute: string]: unknown;
}

export function toRecord(event: CloudEvent, secret?: string) {
  const value = Buffer.from(JSON.stringify(event.data), "utf8");
  const headers: Record<string, string> = {};
  for (const [name, attr] of Object.entries(event)) {
    if (name !== "data" && attr !== undefined && attr !== null) headers[`ce_${name}`] = String(attr);
  }
  headers["ce_specversion"] = "1.0";
  headers["content-type"] = "application/json";
  if (secret) headers["ce_signature"] = sign(secret, headers, value);
  return { key: event.subject, headers, value };
}

function text(headers: IHeaders | undefined, name: string): string | undefined {
  const raw = headers?.[name];
  const one = Array.isArray(raw) ? raw[0] : raw;
  return one === undefined ? undefined : one.toString();
}

async function publishAndFollow(opts: Record<string, string | undefined>): Promise<number> {
  const event = JSON.parse(readFileSync(opts.event!, "utf8")) as CloudEvent;
  const kafka = new Kafka({
    clientId: "erp-sample",
    brokers: opts.bootstrap!.split(","),
    logLevel: logLevel.WARN,
  });
  const consumer = kafka.consumer({
    groupId: `erp-sample-${randomUUID().slice(0, 8)}`,
    sessionTimeout: Number(opts["session-timeout-ms"] ?? 30000),
    heartbeatInterval: Number(opts["heartbeat-interval-ms"] ?? 3000),
  });
  // relais de-duplicates by ce_id, so a producer retry is harmless; acks=-1 below (all replicas).
  const producer = kafka.producer();
  await consumer.connect();
  await consumer.subscribe({ topic: opts["status-topic"]!, fromBeginning: true });
  await producer.connect();
  let settle: (code: number) => void = () => {};
  const done = new Promise<number>((resolve) => (settle = resolve));
  const seen = new Set<string>();
  await consumer.run({
    eachMessage: async ({ message }) => {
      const statusId = text(message.headers, "ce_id");
      if (text(message.headers, "ce_correlationid") !== event.id || !statusId || seen.has(statusId)) {
        return; // another event's status, or a redelivery (same ce_id)
      }
      seen.add(statusId);
      const type = text(message.headers, "ce_type") ?? "";
      const status = type.slice(STATUS_PREFIX.length).replace(/\.v\d+$/, "");
      const body = message.value ? JSON.parse(message.value.toString("utf8")) : {};
      console.log(JSON.stringify({ status, ce_id: statusId, body }));
      if (TERMINAL.has(status)) settle(status === "submitted" ? 0 : 1);
    },
  });
  const record = toRecord(event, opts.secret);
  await producer.send({ topic: opts["input-topic"]!, acks: -1, messages: [record] });
  const timeout = setTimeout(() => settle(2), Number(opts.timeout ?? 60) * 1000);
  const code = await done;
  clearTimeout(timeout);
  if (code === 2) console.log(JSON.stringify({ timeout: true }));
  await producer.disconnect();
  await consumer.disconnect();
  return code;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      bootstrap: { type: "string" },
      event: { type: "string" },
      secret: { type: "string" },
      "input-topic": { type: "string", default: "cfa.events.v1" },
      "status-topic": { type: "string", default: "relais.status.v1" },
      timeout: { type: "string", default: "60" },
      "session-timeout-ms": { type: "string" },
      "heartbeat-interval-ms": { type: "string" },
      headers: { type: "string" },
      value: { type: "string" },
    },
  });
  if (positionals[0] === "sign") {
    const headers = JSON.parse(readFileSync(values.headers!, "utf8")) as Record<string, string>;
    console.log(sign(values.secret!, headers, readFileSync(values.value!)));
    return 0;
  }
  return publishAndFollow(values);
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(3);
  },
);
