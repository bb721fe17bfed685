"""`relais schemas` (not implemented yet)."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser("schemas")
    parser.set_defaults(handler=_not_yet)


def _not_yet(args: argparse.Namespace) -> int:
    print("relais schemas: not implemented yet", file=sys.stderr)
    return 3
