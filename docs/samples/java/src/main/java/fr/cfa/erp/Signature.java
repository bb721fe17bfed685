package fr.cfa.erp;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * ce_signature, the optional HMAC that binds an event to its CFA (reference: relais's
 * services/relais/services/ingest/signature.py). Hex HMAC-SHA256, keyed with the CFA's secret,
 * over ce_id, ce_type, ce_source, ce_subject and ce_time exactly as sent (a missing one is empty),
 * each followed by "\n", then the record value bytes.
 */
public final class Signature {
    public static final List<String> SIGNED_ATTRIBUTES = List.of("id", "type", "source", "subject", "time");

    private Signature() {}

    public static String sign(String secret, Map<String, String> headers, byte[] value) {
        StringBuilder lines = new StringBuilder();
        for (String name : SIGNED_ATTRIBUTES) {
            lines.append(headers.getOrDefault("ce_" + name, "")).append('\n');
        }
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            mac.update(lines.toString().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(mac.doFinal(value));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }
}
