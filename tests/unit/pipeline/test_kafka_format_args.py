"""``kafka-storage format`` for the embedded Apache Kafka: a cluster id is random URL-safe base64
and may start with ``-``; joined to its option, argparse still reads it as the id."""

from __future__ import annotations

import argparse
from pathlib import Path

from relais.adapters.embedded_kafka import format_args

SCRAM = ["--add-scram", "SCRAM-SHA-512=[name=relais,password=p]"]


def parsed(args: list[str]) -> argparse.Namespace:
    """What an argparse CLI shaped like kafka-storage's ``format`` reads from ``args``."""
    parser = argparse.ArgumentParser(exit_on_error=False)
    parser.add_argument("command")
    parser.add_argument("--cluster-id", "-t", required=True)
    parser.add_argument("--config", "-c", required=True)
    parser.add_argument("--add-scram", action="append")
    return parser.parse_args(args)


def test_a_cluster_id_starting_with_a_dash_is_read_as_the_id() -> None:
    args = parsed(format_args("-H8-MwPXSU-aOzQ4cfZCqg", Path("/k/server.properties"), SCRAM))

    assert args.command == "format"
    assert args.cluster_id == "-H8-MwPXSU-aOzQ4cfZCqg"
    assert args.config == "/k/server.properties"
    assert args.add_scram == ["SCRAM-SHA-512=[name=relais,password=p]"]
