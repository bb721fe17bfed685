"""When a file holding a secret is too open to trust.

Owner-only (0600, 0400) is always fine. Kubernetes mounts a Secret's files 0400 but, when the pod
sets an ``fsGroup``, gives them to that group and makes them 0440: group read is then accepted when
the file's group is one of this process's own groups (the pod's fsGroup; never root's), with no
write or execute bit for the group and nothing for others. Anything else (world-readable,
group-writable, a group this process is not in) is reported.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


def process_groups() -> frozenset[int]:
    """This process's groups, root's (0) left out: a pod's fsGroup is never 0."""
    return frozenset({os.getegid(), *os.getgroups()}) - {0}


def too_open(st: os.stat_result, groups: frozenset[int] | None = None) -> bool:
    """Whether a secret file with this ``stat`` may be read by someone it should not."""
    mode = stat.S_IMODE(st.st_mode)
    if mode & stat.S_IRWXO or mode & (stat.S_IWGRP | stat.S_IXGRP):
        return True
    if not mode & stat.S_IRGRP:
        return False
    return st.st_gid not in (groups if groups is not None else process_groups())


def too_open_message(path: object, st: os.stat_result) -> str:
    mode = stat.S_IMODE(st.st_mode)
    return (
        f"{path}: readable by group or others (mode {mode:o}); use 0600/0400, or 0440 with the "
        "pod's fsGroup as the file's group"
    )


def loose_files(root: Path) -> list[str]:
    """The files of a secrets directory that are too open (names only, never values)."""
    if not root.is_dir():
        return []
    return [
        too_open_message(path, path.stat())
        for path in sorted(p for p in root.iterdir() if p.is_file())
        if too_open(path.stat())
    ]
