"""The Kafka side of relais: FastStream for the ingest subscriber (and the AsyncAPI document),
a plain aiokafka producer for the two things relais publishes (status events, dead letters)."""
