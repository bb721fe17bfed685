"""Connection options shared by the FastStream broker and the aiokafka producer."""

from __future__ import annotations

import ssl
from typing import Any

from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

from relais.config import KafkaSettings
from relais.errors import ConfigurationError


def bootstrap_hosts(kafka: KafkaSettings) -> list[str]:
    """``host:port`` of each bootstrap broker: FastStream hands a string to aiokafka as ONE host,
    so ``a:9092,b:9092`` (a real cluster) must reach it as a list."""
    return [host.strip() for host in kafka.bootstrap_servers.split(",") if host.strip()]


def ssl_context(kafka: KafkaSettings) -> ssl.SSLContext | None:
    if not kafka.security_protocol.endswith("SSL"):
        return None
    context = ssl.create_default_context(cafile=str(kafka.ssl_cafile) if kafka.ssl_cafile else None)
    if kafka.ssl_certfile is not None:
        context.load_cert_chain(
            str(kafka.ssl_certfile), str(kafka.ssl_keyfile) if kafka.ssl_keyfile else None
        )
    return context


def security(kafka: KafkaSettings) -> BaseSecurity | None:
    """FastStream's security object for the configured protocol (None: PLAINTEXT)."""
    context = ssl_context(kafka)
    use_ssl = kafka.security_protocol.endswith("SSL")
    if not kafka.security_protocol.startswith("SASL"):
        return BaseSecurity(ssl_context=context, use_ssl=use_ssl) if use_ssl else None
    if kafka.sasl_username is None or kafka.sasl_password is None:
        raise ConfigurationError("SASL needs kafka.sasl_username and kafka.sasl_password")
    user, password = kafka.sasl_username, kafka.sasl_password.get_secret_value()
    cls = {
        "PLAIN": SASLPlaintext,
        "SCRAM-SHA-256": SASLScram256,
        "SCRAM-SHA-512": SASLScram512,
    }[kafka.sasl_mechanism or "PLAIN"]
    return cls(username=user, password=password, ssl_context=context, use_ssl=use_ssl)


def aiokafka_options(kafka: KafkaSettings) -> dict[str, Any]:
    """Keyword arguments for an aiokafka client (producer, admin) with the same connection."""
    options: dict[str, Any] = {
        "bootstrap_servers": kafka.bootstrap_servers,
        "client_id": kafka.client_id,
        "request_timeout_ms": kafka.request_timeout_ms,
        "security_protocol": kafka.security_protocol,
    }
    context = ssl_context(kafka)
    if context is not None:
        options["ssl_context"] = context
    if kafka.security_protocol.startswith("SASL"):
        if kafka.sasl_username is None or kafka.sasl_password is None:
            raise ConfigurationError("SASL needs kafka.sasl_username and kafka.sasl_password")
        options["sasl_mechanism"] = kafka.sasl_mechanism
        options["sasl_plain_username"] = kafka.sasl_username
        options["sasl_plain_password"] = kafka.sasl_password.get_secret_value()
    return options
