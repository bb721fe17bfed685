// ce_signature, the optional HMAC that binds an event to its CFA (reference: relais's
// services/relais/services/ingest/signature.py). Hex HMAC-SHA256, keyed with the CFA's secret, over
// ce_id, ce_type, ce_source, ce_subject and ce_time exactly as sent (a missing one is empty), each
// followed by "\n", then the record value bytes.
import { createHmac } from "node:crypto";

export const SIGNED_ATTRIBUTES = ["id", "type", "source", "subject", "time"] as const;

export function sign(secret: string, headers: Record<string, string>, value: Buffer): string {
  const lines = SIGNED_ATTRIBUTES.map((name) => (headers[`ce_${name}`] ?? "") + "\n").join("");
  return createHmac("sha256", Buffer.from(secret, "utf8"))
    .update(Buffer.from(lines, "utf8"))
    .update(value)
    .digest("hex");
}
