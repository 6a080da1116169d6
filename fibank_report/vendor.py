"""Vendor the page's JavaScript libraries from the npm registry, pinned by version and checksum.

The report inlines them, so they are fetched once (by `make report`) into `.tools/report/` with npm's
own client, and a tarball whose sha512 differs from the pinned one is refused: the page must not
change behind the project's back.

    python -m fibank_report.vendor .tools/report
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Library:
    """One npm package and the files of it the page inlines."""

    name: str
    version: str
    integrity: str  # npm's sha512 of the tarball
    files: tuple[str, ...]  # paths inside the tarball (under package/)


LIBRARIES = (
    Library(
        "chart.js",
        "4.6.1",
        "sha512-hJyniucsFmq//EvXYvJ6c6mahPoI3kaxdjVH8awTaJ/fDNWeSqqqArixMJWkWNN6fcYvPU3HneSANFNYtRi61g==",
        ("dist/chart.umd.min.js",),
    ),
    Library(
        "simple-datatables",
        "10.3.0",
        "sha512-/9XcZ/AzZWYNMTTwUcUqsNhZXD1KIHg4tWCUhRx5qPDOnRVG2gNdRDR1euNTCbQxfAypu78ucgWc/BOMFfuxAQ==",
        ("dist/umd/simple-datatables.js", "dist/style.css"),
    ),
)


class VendorError(Exception):
    """A library could not be fetched or did not match its pin."""


def integrity_of(path: Path) -> str:
    """The npm integrity string (sha512, base64) of a file."""
    digest = hashlib.sha512(path.read_bytes()).digest()
    return "sha512-" + base64.b64encode(digest).decode("ascii")


def vendored_path(folder: Path, library: Library, member: str) -> Path:
    """Where a library's file lands: `<folder>/<name>/<file name>`."""
    return folder / library.name / Path(member).name


def fetch(library: Library, folder: Path) -> None:
    """Run npm pack on the pinned version, check its sha512, extract the files the page needs."""
    npm = shutil.which("npm")
    if npm is None:
        raise VendorError("npm is not installed: install Node.js with npm (Debian: apt-get install npm)")
    with tempfile.TemporaryDirectory() as scratch:
        proc = subprocess.run(  # noqa: S603 - a fixed command with pinned arguments
            [npm, "pack", "--silent", f"{library.name}@{library.version}", "--pack-destination", scratch],
            capture_output=True,
            text=True,
            check=False,
        )
        tarballs = list(Path(scratch).glob("*.tgz"))
        if proc.returncode != 0 or len(tarballs) != 1:
            detail = (proc.stderr.strip().splitlines() or ["no tarball"])[-1]
            raise VendorError(f"npm pack {library.name}@{library.version} failed: {detail}")
        found = integrity_of(tarballs[0])
        if found != library.integrity:
            raise VendorError(f"{library.name}@{library.version}: checksum {found} is not the pinned one")
        target = folder / library.name
        target.mkdir(parents=True, exist_ok=True)
        with tarfile.open(tarballs[0]) as archive:
            for member in library.files:
                source = archive.extractfile(f"package/{member}")
                if source is None:
                    raise VendorError(f"{library.name}@{library.version} has no {member}")
                vendored_path(folder, library, member).write_bytes(source.read())


def main(argv: list[str] | None = None) -> int:
    """Vendor every library into the folder given (default .tools/report)."""
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0] if args else ".tools/report")
    try:
        for library in LIBRARIES:
            fetch(library, folder)
    except VendorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for library in LIBRARIES:
        sizes = ", ".join(
            f"{Path(m).name} {vendored_path(folder, library, m).stat().st_size // 1024} KiB"
            for m in library.files
        )
        print(f"{library.name} {library.version}: {sizes}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
