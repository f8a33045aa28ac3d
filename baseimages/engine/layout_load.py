"""`docker image load` of an OCI layout directory, without an archive on disk: the layout is streamed to
the command as a tar made on the fly (members sorted, times zeroed), blobs the engine already holds
left out when asked (the containerd image store takes an archive that lacks them).
"""

from __future__ import annotations

import contextlib
import subprocess
import tarfile
import tempfile
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path

from ..core.errors import BuildError

CHUNK = 1024 * 1024  # bytes per write of a blob into the pipe
_BLOCK = tarfile.BLOCKSIZE


def layout_tar(layout: Path, leave_out: Collection[str] = ()) -> Iterator[bytes]:
    """LAYOUT as the bytes of a tar, in chunks; the blobs LEAVE_OUT (digests) left out."""
    skip = {f"blobs/{digest.replace(':', '/', 1)}" for digest in leave_out}
    for path in sorted(layout.rglob("*")):
        name = path.relative_to(layout).as_posix()
        if name in skip:
            continue
        info = tarfile.TarInfo(name)
        if path.is_dir():
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            yield info.tobuf(tarfile.PAX_FORMAT)
            continue
        info.size, info.mode = path.stat().st_size, 0o644
        yield info.tobuf(tarfile.PAX_FORMAT)
        with path.open("rb") as handle:
            left = info.size
            while left:
                chunk = handle.read(min(CHUNK, left))
                if not chunk:
                    raise OSError(f"{path} ends {left} bytes early")
                left -= len(chunk)
                yield chunk
        if info.size % _BLOCK:
            yield b"\0" * (_BLOCK - info.size % _BLOCK)
    yield b"\0" * (2 * _BLOCK)


def load_layout(docker: Sequence[str], layout: Path, leave_out: Collection[str] = ()) -> None:
    """`DOCKER image load --quiet` of LAYOUT streamed as a tar (LEAVE_OUT left out); a BuildError with
    Docker's reason when it fails."""
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen([*docker, "image", "load", "--quiet"], stdin=subprocess.PIPE,
                                   stdout=subprocess.DEVNULL, stderr=errors)  # fmt: skip
        assert process.stdin is not None
        broken = None
        try:
            for chunk in layout_tar(layout, leave_out):
                process.stdin.write(chunk)
        except BrokenPipeError:
            broken = "docker image load stopped reading"
        except OSError as exc:
            broken = f"cannot read the layout: {exc}"
            process.kill()
        finally:
            with contextlib.suppress(BrokenPipeError):
                process.stdin.close()
        code = process.wait()
        errors.seek(0)
        said = errors.read().decode(errors="replace").strip().splitlines()
    if code != 0 or broken:
        reason = said[-1] if said else broken or f"exit {code}"
        raise BuildError(str(layout), f"docker image load failed: {reason}")
