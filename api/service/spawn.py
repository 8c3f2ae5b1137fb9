"""How the run pool starts its worker processes: spawned, with the parent-death signal armed by
the child's first line of Python, and without a resource tracker.

Why not a plain ``multiprocessing.get_context("spawn").Process``: after a ``kill -9`` of the
server, two processes of that tree outlived it by a time that depended on the machine's load
(0.47 s on an idle machine, 0.85 s at load 5.9; issue #19):

- a worker still starting up. The pool starts a second worker right after it hands a run to the
  first (it keeps ``run_workers`` ready); a spawned child imports the run layer (pandas, the
  engines) before :func:`~.runproc.worker_main` arms ``PR_SET_PDEATHSIG``, so during its
  start-up nothing but its own later ``getppid()`` check ended it;
- the ``multiprocessing`` resource tracker, which a spawn context starts beside the first worker.
  It exits on end-of-file of a pipe that the server *and every worker* hold, so it outlived the
  slowest worker, and then ran its own clean-up and interpreter shutdown.

:class:`RunWorkerProcess` removes both delays. Its command line is the spawn context's with two
statements before ``spawn_main``: ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` (Linux), then ``exit if
getppid() is not the server`` (the server died between fork and ``prctl``: the check closes that
race). From there on the kernel kills the worker when the server exits, whatever the worker is
doing (importing, computing, or waiting), with no Python code of the worker involved. No resource
tracker is started: a run worker creates no named semaphore or shared memory (it talks to the
server through a pipe); if a kind ever does, ``multiprocessing`` starts a tracker as the
worker's own child, which dies with it (its pipe's only writer).

What remains before the arming is the interpreter's start-up up to its first statement (site
imports, a few milliseconds); :func:`~.runproc.die_with_parent` stays as the second line (the
parent watch thread, and the only line where there is no ``prctl``).

On Windows the class is the spawn context's own process (no ``prctl``, no resource tracker).
"""

from __future__ import annotations

import io
import os
import sys
from multiprocessing.context import SpawnProcess

__all__ = ["ARM_PROGRAM", "RunWorkerProcess", "armed_command"]

ARM_PROGRAM = (
    "import os, sys\n"
    "if sys.platform.startswith('linux'):\n"
    "    import ctypes\n"
    "    try:\n"
    "        ctypes.CDLL(None).prctl(1, 9, 0, 0, 0)\n"  # PR_SET_PDEATHSIG, SIGKILL
    "    except (OSError, AttributeError):\n"
    "        pass\n"
    "if os.getppid() != {parent}:\n"
    "    os._exit(75)\n"  # runproc.PARENT_GONE_EXIT
)
"""The statements a run worker executes first (``{parent}``: the server's pid)."""


def armed_command(command: list[str], parent_pid: int) -> list[str]:
    """The spawn context's command line ``[python, *flags, "-c", program, ...]`` with
    :data:`ARM_PROGRAM` before its program (a frozen executable's, which has no program, is
    returned as it is: :func:`~.runproc.die_with_parent` arms the worker there)."""
    if "-c" not in command:
        return list(command)
    i = command.index("-c") + 1
    return [*command[:i], ARM_PROGRAM.format(parent=parent_pid) + command[i], *command[i + 1:]]


if sys.platform == "win32":  # pragma: no cover - no prctl, no resource tracker
    RunWorkerProcess = SpawnProcess
else:
    from multiprocessing import popen_spawn_posix, reduction, spawn, util
    from multiprocessing.context import set_spawning_popen

    class _ArmedPopen(popen_spawn_posix.Popen):
        """``popen_spawn_posix.Popen`` with an armed command line and no resource tracker
        (otherwise its ``_launch`` step for step)."""

        def _launch(self, process_obj):
            prep_data = spawn.get_preparation_data(process_obj._name)
            fp = io.BytesIO()
            set_spawning_popen(self)
            try:
                reduction.dump(prep_data, fp)
                reduction.dump(process_obj, fp)
            finally:
                set_spawning_popen(None)
            parent_r = child_w = child_r = parent_w = None
            try:
                parent_r, child_w = os.pipe()
                child_r, parent_w = os.pipe()
                cmd = armed_command(spawn.get_command_line(pipe_handle=child_r), os.getpid())
                self._fds.extend([child_r, child_w])
                self.pid = util.spawnv_passfds(spawn.get_executable(), cmd, self._fds)
                self.sentinel = parent_r
                with open(parent_w, "wb", closefd=False) as f:
                    f.write(fp.getbuffer())
            finally:
                self.finalizer = util.Finalize(
                    self, util.close_fds, [fd for fd in (parent_r, parent_w) if fd is not None])
                for fd in (child_r, child_w):
                    if fd is not None:
                        os.close(fd)

    class RunWorkerProcess(SpawnProcess):  # type: ignore[no-redef]
        """A spawned process armed to die with its parent from its first statement."""

        @staticmethod
        def _Popen(process_obj):  # noqa: N802 - the multiprocessing hook
            return _ArmedPopen(process_obj)
