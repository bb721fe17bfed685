"""Operator tools behind ``relais send|watch|dossier|dlq|keys|config``: thin commands call these.

They work against any deployment through ``Settings``, and find a running ``relais demo`` through
its state file (``relais.operator.target``).
"""
