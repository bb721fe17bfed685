package fr.cfa.erp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * ERP integration sample (Java, kafka-clients): publish one CFA event to relais, read its statuses.
 *
 * <pre>
 * java fr.cfa.erp.ErpClient --bootstrap localhost:9092 --event dossier.json \
 *     [--secret HMAC_SECRET] [--input-topic cfa.events.v1] [--status-topic relais.status.v1]
 * java fr.cfa.erp.ErpClient sign --secret S --headers headers.json --value value.bin
 * </pre>
 *
 * The event file is a CloudEvents structured JSON event (schemas/examples/). It is published in
 * binary content mode: key = subject (the CFA's dossier id), headers ce_* + content-type, value =
 * the JSON of data. The statuses of this event (header ce_correlationid = its id) are printed as
 * JSON lines until a terminal one; exit code 0 when it is submitted, 1 for another terminal
 * status, 2 on timeout. Run by tests/e2e/test_erp_samples.py against a real broker and relais.
 */
public final class ErpClient {
    private static final Set<String> TERMINAL = Set.of("submitted", "rejected", "failed", "dead_lettered");
    private static final String STATUS_PREFIX = "fr.relais.status.";
    private static final ObjectMapper JSON = new ObjectMapper();

    private ErpClient() {}

    public static void main(String[] argv) throws Exception {
        Map<String, String> opts = new HashMap<>(Map.of(
                "input-topic", "cfa.events.v1", "status-topic", "relais.status.v1", "timeout", "60"));
        boolean signOnly = argv.length > 0 && argv[0].equals("sign");
        for (int i = signOnly ? 1 : 0; i + 1 < argv.length; i += 2) {
            opts.put(argv[i].replaceFirst("^--", ""), argv[i + 1]);
        }
        if (signOnly) {
            Map<String, String> headers = JSON.readValue(
                    Files.readString(Path.of(opts.get("headers"))),
                    JSON.getTypeFactory().constructMapType(Map.class, String.class, String.class));
            System.out.println(Signature.sign(opts.get("secret"), headers, Files.readAllBytes(Path.of(opts.get("value")))));
            return;
        }
        System.exit(publishAndFollow(opts));
    }

    /** The event's headers in binary content mode (ce_* attributes, content-type, signature). */
    static Map<String, String> headersOf(JsonNode event, byte[] value, String secret) {
        Map<String, String> headers = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> attr : event.properties()) {
            if (!attr.getKey().equals("data") && !attr.getValue().isNull()) {
                headers.put("ce_" + attr.getKey(), attr.getValue().asText());
            }
        }
        headers.put("ce_specversion", "1.0");
        headers.put("content-type", "application/json");
        if (secret != null) {
            headers.put("ce_signature", Signature.sign(secret, headers, value));
        }
        return headers;
    }

    static int publishAndFollow(Map<String, String> opts) throws Exception {
        JsonNode event = JSON.readTree(Files.readString(Path.of(opts.get("event"))));
        String eventId = event.get("id").asText();
        byte[] value = JSON.writeValueAsBytes(event.get("data"));
        Map<String, String> headers = headersOf(event, value, opts.get("secret"));

        Properties common = new Properties();
        common.put("bootstrap.servers", opts.get("bootstrap"));
        Properties consumerProps = (Properties) common.clone();
        consumerProps.put(ConsumerConfig.GROUP_ID_CONFIG, "erp-sample-" + UUID.randomUUID().toString().substring(0, 8));
        consumerProps.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        consumerProps.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        if (opts.containsKey("session-timeout-ms")) {
            consumerProps.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, opts.get("session-timeout-ms"));
            consumerProps.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, opts.get("heartbeat-interval-ms"));
        }
        Properties producerProps = (Properties) common.clone();
        producerProps.put(ProducerConfig.ACKS_CONFIG, "all");
        // relais de-duplicates by ce_id, so a producer retry is harmless; the idempotent producer
        // (Kafka's default) works on Apache Kafka but not on the embedded test broker.
        producerProps.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, opts.getOrDefault("idempotence", "false"));

        try (KafkaConsumer<String, byte[]> consumer =
                        new KafkaConsumer<>(consumerProps, new StringDeserializer(), new ByteArrayDeserializer());
                KafkaProducer<String, byte[]> producer =
                        new KafkaProducer<>(producerProps, new StringSerializer(), new ByteArraySerializer())) {
            consumer.subscribe(List.of(opts.get("status-topic")));
            ProducerRecord<String, byte[]> record =
                    new ProducerRecord<>(opts.get("input-topic"), event.get("subject").asText(), value);
            headers.forEach((k, v) -> record.headers().add(k, v.getBytes(StandardCharsets.UTF_8)));
            producer.send(record).get();
            return follow(consumer, eventId, Instant.now().plusSeconds(Long.parseLong(opts.get("timeout"))));
        }
    }

    static int follow(KafkaConsumer<String, byte[]> consumer, String eventId, Instant deadline) throws Exception {
        Set<String> seen = new HashSet<>();
        while (Instant.now().isBefore(deadline)) {
            for (ConsumerRecord<String, byte[]> rec : consumer.poll(Duration.ofMillis(500))) {
                String statusId = header(rec, "ce_id");
                if (!eventId.equals(header(rec, "ce_correlationid")) || statusId == null || !seen.add(statusId)) {
                    continue; // another event's status, or a redelivery (same ce_id)
                }
                String type = header(rec, "ce_type");
                String status = type.substring(STATUS_PREFIX.length()).replaceFirst("\\.v\\d+$", "");
                Map<String, Object> line = new LinkedHashMap<>();
                line.put("status", status);
                line.put("ce_id", statusId);
                line.put("body", rec.value() == null ? Map.of() : JSON.readTree(rec.value()));
                System.out.println(JSON.writeValueAsString(line));
                if (TERMINAL.contains(status)) {
                    return status.equals("submitted") ? 0 : 1;
                }
            }
        }
        System.out.println("{\"timeout\": true}");
        return 2;
    }

    private static String header(ConsumerRecord<String, byte[]> rec, String name) {
        Header h = rec.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }
}
