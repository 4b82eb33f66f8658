"""Who holds a lease (a feed being polled, a message being sent) and whether it may still be alive.

An owner is `host:pid:process-token[:task-token]`. The process token tells this process's
leases from those of an earlier process that had the same pid (a container restarts with the
same pids): a lease of ours from before a crash is stale. A lease from another host is only
ever ended by its expiry: we cannot see that host's processes.
"""

from __future__ import annotations

import os
import socket
import uuid

PROCESS = uuid.uuid4().hex[:12]
HOST = socket.gethostname()


def process_owner() -> str:
    """This daemon: host, pid and this process's token."""
    return f"{HOST}:{os.getpid()}:{PROCESS}"


def task_owner() -> str:
    """One task of this daemon (a flush): the process owner and the task's own token."""
    return f"{process_owner()}:{uuid.uuid4().hex[:8]}"


def owner_alive(owner: str) -> bool:
    """Whether the process that wrote this lease may still hold it (unknown hosts: assume so)."""
    host, _, rest = owner.partition(":")
    pid_text, _, rest = rest.partition(":")
    if host != HOST or not pid_text.isdigit():
        return True
    pid = int(pid_text)
    if pid == os.getpid():
        return rest.partition(":")[0] == PROCESS  # same pid, other token: our own crashed predecessor
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def daemon_of(owner: str) -> str:
    """The daemon part of an owner (host:pid), for status."""
    host, _, rest = owner.partition(":")
    return f"{host}:{rest.partition(':')[0]}"
