// Independent end-to-end checker for relais, written against KafkaJS (not aiokafka, not relais code).
//
//   node checker.mjs --brokers 127.0.0.1:9092 --events events.json --report report.json \
//        [--input-topic cfa.events.v1] [--status-topic relais.status.v1] [--timeout-ms 120000] \
//        [--terminal submitted,rejected,failed,dead_lettered] [--settle-ms 1000]
//        [--session-timeout-ms 1000] [--heartbeat-interval-ms 333]
//
// 1. Produces every event of the JSON file (a list of CloudEvents in structured form) as a Kafka
//    record in binary content mode: key = subject, headers ce_* (ce_specversion, ce_id, ce_type,
//    ce_source, ce_subject, ce_time, ce_datacontenttype), value = JSON of `data`. Records are sent one
//    at a time with acks=all, in file order, so the per-dossier order is the file order.
// 2. Reads the status topic from the beginning with a fresh consumer group until every produced
//    event id has a status whose state is terminal (or the timeout), then waits --settle-ms more to
//    catch late duplicates.
// 3. Writes a JSON report: produced records (id, subject, partition, offset), every status record
//    (partition, offset, key, headers, value), the ids still without a terminal status, timings.
//
// The status event contract is relais's; this script only needs, per status record, the CFA event
// id it answers and its state. Both are looked up in a few plausible places (see correlate()), so
// the checker keeps working while the contract's field names settle. Exit code 0 when every event
// has a terminal status, 1 when some do not, 2 on usage or broker errors.

import { readFileSync, writeFileSync } from "node:fs";
import { Kafka, logLevel } from "kafkajs";

function parseArgs(argv) {
  const out = {
    inputTopic: "cfa.events.v1",
    statusTopic: "relais.status.v1",
    timeoutMs: 120000,
    settleMs: 1000,
    // Short group timings: on the embedded broker a group joins in ~1 s with 1000/333 (6000/1000: 3 s).
    sessionTimeoutMs: 1000,
    heartbeatIntervalMs: 333,
    terminal: "submitted,rejected,failed,dead_lettered,dead-lettered,deadlettered",
  };
  for (let i = 2; i < argv.length; i += 2) {
    const name = argv[i].replace(/^--/, "").replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    out[name] = argv[i + 1];
  }
  for (const required of ["brokers", "events", "report"]) {
    if (!out[required]) {
      console.error(`missing --${required}`);
      process.exit(2);
    }
  }
  out.timeoutMs = Number(out.timeoutMs);
  out.settleMs = Number(out.settleMs);
  out.sessionTimeoutMs = Number(out.sessionTimeoutMs);
  out.heartbeatIntervalMs = Number(out.heartbeatIntervalMs);
  out.terminal = new Set(out.terminal.split(",").map((s) => s.trim().toLowerCase()));
  return out;
}

const HEADER_ATTRS = ["specversion", "id", "type", "source", "subject", "time", "datacontenttype"];

function toRecord(event) {
  const headers = {};
  for (const attr of HEADER_ATTRS) {
    if (event[attr] !== undefined && event[attr] !== null) headers[`ce_${attr}`] = String(event[attr]);
  }
  if (!headers.ce_datacontenttype) headers.ce_datacontenttype = "application/json";
  if (event.signature) headers.ce_signature = String(event.signature);
  // An event may carry a raw value to exercise undecodable input (e.g. {"rawValue": "not json"}).
  const value = event.rawValue !== undefined ? String(event.rawValue) : JSON.stringify(event.data);
  return { key: event.subject ?? null, headers, value };
}

function decodeHeaders(headers) {
  const out = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    out[name] = value === null || value === undefined ? null : Buffer.from(value).toString("utf8");
  }
  return out;
}

function pick(obj, paths) {
  for (const path of paths) {
    let cur = obj;
    for (const part of path.split(".")) {
      if (cur === null || cur === undefined || typeof cur !== "object") {
        cur = undefined;
        break;
      }
      cur = cur[part];
    }
    if (cur !== undefined && cur !== null && cur !== "") return String(cur);
  }
  return null;
}

// Which CFA event a status answers, and its state.
export function correlate(headers, value) {
  const wrapped = { headers, value: value ?? {}, data: value?.data ?? {} };
  const eventId = pick(wrapped, [
    "value.eventId",
    "value.event_id",
    "value.causationId",
    "value.causation_id",
    "data.eventId",
    "data.event_id",
    "data.causationId",
    "headers.ce_causationid",
    "headers.relais_event_id",
    "headers.ce_relatedid",
  ]);
  const status = pick(wrapped, [
    "value.status",
    "value.state",
    "data.status",
    "data.state",
    "headers.relais_status",
  ]);
  return { eventId, status: status ? status.toLowerCase() : null };
}

async function main() {
  const opts = parseArgs(process.argv);
  const events = JSON.parse(readFileSync(opts.events, "utf8"));
  const kafka = new Kafka({
    clientId: "relais-kafkajs-checker",
    brokers: opts.brokers.split(","),
    logLevel: logLevel.ERROR,
    retry: { retries: 8, initialRetryTime: 100 },
  });
  const started = Date.now();

  const producer = kafka.producer({ allowAutoTopicCreation: true });
  await producer.connect();
  const produced = [];
  for (const event of events) {
    const [meta] = await producer.send({
      topic: opts.inputTopic,
      acks: -1,
      messages: [toRecord(event)],
    });
    produced.push({ id: event.id, subject: event.subject, partition: meta.partition, offset: meta.baseOffset });
  }
  await producer.disconnect();
  const producedAt = Date.now();

  const wanted = new Set(produced.map((p) => p.id));
  const terminalSeen = new Set();
  const statuses = [];
  let doneAt = null;
  const consumer = kafka.consumer({
    groupId: `relais-kafkajs-checker-${process.pid}-${Date.now()}`,
    sessionTimeout: opts.sessionTimeoutMs,
    heartbeatInterval: opts.heartbeatIntervalMs,
    rebalanceTimeout: opts.sessionTimeoutMs,
    maxWaitTimeInMs: 200,
  });
  await consumer.connect();
  await consumer.subscribe({ topic: opts.statusTopic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ partition, message }) => {
      const headers = decodeHeaders(message.headers);
      const text = message.value ? message.value.toString("utf8") : null;
      let value = null;
      try {
        value = text ? JSON.parse(text) : null;
      } catch {
        value = { unparsable: text };
      }
      const { eventId, status } = correlate(headers, value);
      statuses.push({
        partition,
        offset: Number(message.offset),
        key: message.key ? message.key.toString("utf8") : null,
        timestamp: Number(message.timestamp),
        receivedMs: Date.now() - started,
        headers,
        value,
        eventId,
        status,
      });
      if (eventId && wanted.has(eventId) && status && opts.terminal.has(status)) {
        terminalSeen.add(eventId);
        if (doneAt === null && terminalSeen.size === wanted.size) doneAt = Date.now();
      }
    },
  });

  const deadline = started + opts.timeoutMs;
  while (Date.now() < deadline) {
    if (doneAt !== null && Date.now() - doneAt >= opts.settleMs) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await consumer.disconnect();

  const missing = produced.map((p) => p.id).filter((id) => !terminalSeen.has(id));
  const report = {
    brokers: opts.brokers,
    inputTopic: opts.inputTopic,
    statusTopic: opts.statusTopic,
    produced,
    statuses,
    missingTerminal: missing,
    complete: missing.length === 0,
    produceMs: producedAt - started,
    allTerminalMs: doneAt === null ? null : doneAt - started,
    elapsedMs: Date.now() - started,
  };
  writeFileSync(opts.report, JSON.stringify(report, null, 2));
  console.log(
    JSON.stringify({ produced: produced.length, statuses: statuses.length, missing: missing.length, elapsedMs: report.elapsedMs }),
  );
  process.exit(missing.length === 0 ? 0 : 1);
}

main().catch((err) => {
  console.error(`checker failed: ${err?.stack ?? err}`);
  process.exit(2);
});
