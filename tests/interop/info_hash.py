#!/usr/bin/python3
"""Interop: spate's info-hash and metadata agree with libtorrent and transmission-show.

Torrents are made by mktorrent (single- and multi-file), by libtorrent's create_torrent
(v1 with BEP 47 pad files) and by `spate create`; for each, `spate info --json` must print
the same info-hash as libtorrent's python binding and transmission-show, and libtorrent
must load every torrent `spate create` writes with the same files and piece count.

usage: info_hash.py SPATE_BINARY
Runs under Debian's /usr/bin/python3 (the only python that has the libtorrent module).
"""

import json
import os
import re
import subprocess
import sys
import tempfile

import libtorrent as lt

TIMEOUT = 60  # seconds for any one program run


def run(args):
    proc = subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT)
    if proc.returncode != 0:
        raise AssertionError(f"{args[0]} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout


def write_payload(root):
    """A single file and a multi-file folder with uneven sizes, deterministic bytes."""
    single = os.path.join(root, "single.bin")
    with open(single, "wb") as f:
        f.write(bytes((i * 31) % 251 for i in range(3 * 65536 + 1234)))
    multi = os.path.join(root, "multi")
    os.makedirs(os.path.join(multi, "sub", "deeper"))
    sizes = {"a.txt": 1000, "sub/b.bin": 70000, "sub/empty": 0,
             "sub/deeper/c.bin": 131072, "z.bin": 5}
    for rel, size in sizes.items():
        with open(os.path.join(multi, rel), "wb") as f:
            f.write(bytes((i * 7 + len(rel)) % 256 for i in range(size)))
    return single, multi


def libtorrent_create(path, out, flags):
    fs = lt.file_storage()
    lt.add_files(fs, path)
    ct = lt.create_torrent(fs, 16384, flags=flags)
    ct.add_tracker("http://127.0.0.1:6969/announce")
    lt.set_piece_hashes(ct, os.path.dirname(path))
    with open(out, "wb") as f:
        f.write(lt.bencode(ct.generate()))


def libtorrent_hash(path):
    info = lt.torrent_info(path)
    return str(info.info_hashes().v1), info


def transmission_hash(path):
    out = run(["transmission-show", path])
    match = re.search(r"^\s*Hash:\s*([0-9a-f]{40})\s*$", out, re.MULTILINE)
    if not match:
        raise AssertionError(f"no Hash line from transmission-show for {path}:\n{out}")
    return match.group(1)


def main():
    spate = os.path.abspath(sys.argv[1])
    failures = []
    with tempfile.TemporaryDirectory(prefix="spate-interop-") as tmp:
        single, multi = write_payload(tmp)
        torrents = {}  # name -> (path, made by spate)

        for label, target in (("single", single), ("multi", multi)):
            out = os.path.join(tmp, f"mktorrent-{label}.torrent")
            run(["mktorrent", "-l", "15", "-a", "http://127.0.0.1:6969/announce",
                 "-o", out, target])
            torrents[f"mktorrent-{label}"] = (out, False)

            out = os.path.join(tmp, f"libtorrent-pad-{label}.torrent")
            libtorrent_create(target, out,
                              lt.create_torrent.v1_only | lt.create_torrent.canonical_files)
            torrents[f"libtorrent-pad-{label}"] = (out, False)

            out = os.path.join(tmp, f"spate-{label}.torrent")
            run([spate, "create", target, "-o", out, "--piece-size", "16384",
                 "-t", "http://127.0.0.1:6969/announce", "-t", "udp://127.0.0.1:6969"])
            torrents[f"spate-{label}"] = (out, True)

            out = os.path.join(tmp, f"spate-auto-{label}.torrent")
            run([spate, "create", target, "-o", out, "--private", "--comment", "interop"])
            torrents[f"spate-auto-{label}"] = (out, True)

        pad_seen = False
        for name, (path, by_spate) in sorted(torrents.items()):
            ours = json.loads(run([spate, "info", "--json", path]))
            theirs, info = libtorrent_hash(path)
            trans = transmission_hash(path)
            pad_seen |= any(f.get("pad") for f in ours["files"])
            if not (ours["info_hash"] == theirs == trans):
                failures.append(f"{name}: spate {ours['info_hash']} libtorrent {theirs} "
                                f"transmission {trans}")
            if ours["piece_count"] != info.num_pieces():
                failures.append(f"{name}: spate counts {ours['piece_count']} pieces, "
                                f"libtorrent {info.num_pieces()}")
            if ours["total_size"] != info.total_size():
                failures.append(f"{name}: spate total {ours['total_size']}, "
                                f"libtorrent {info.total_size()}")
            if by_spate:
                # libtorrent must load it and see the same files in the same order.
                lt_files = info.files()
                lt_paths = [lt_files.file_path(i).replace(os.sep, "/")
                            for i in range(lt_files.num_files())]
                our_paths = [f["path"] for f in ours["files"]]
                if lt_paths != our_paths:
                    failures.append(f"{name}: files differ: spate {our_paths} "
                                    f"libtorrent {lt_paths}")
            print(f"{name}: {ours['info_hash']} ({ours['piece_count']} pieces)")
        if not pad_seen:
            failures.append("no torrent with BEP 47 pad files was compared")

    for f in failures:
        print("FAIL:", f)
    print(f"compared {len(torrents)} torrents: {len(failures)} mismatches")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
