#!/usr/bin/python3
"""Integration: `spate download` when the disk or its own resume file lets it down.

  read_only       the download folder is a read-only filesystem (a tmpfs mounted ro in a
                  private mount namespace), or a path under a regular file: exit 1 with one
                  "spate: ..." line naming the folder, nothing written
  files_gone      after a complete download one payload file is deleted and another cut in
                  half: the rerun's check finds only the untouched pieces good (the resume
                  file is not trusted for changed files), fetches the rest, and every file
                  ends byte-identical
  corrupt_resume  the resume file replaced by each kind of damage (empty, junk, cut short,
                  another torrent's, a have bitfield of the wrong length, absurd numbers,
                  a folder in its place): each rerun rechecks the data instead of trusting
                  the file, and ends byte-identical (with the folder, exit 0 and a warning
                  that the resume file could not be written)
  one_thread      while a download runs, every thread of the process but the first is one
                  of the kernel's io_uring workers: spate itself runs one thread, so there is
                  nothing for a ThreadSanitizer build to check

usage: download_disk_test.py SPATE_BINARY [TEST]...   (all tests when none is named)
Every process started here is stopped by its pid, pass or fail; every wait is bounded;
everything stays on 127.0.0.0/8. Uses hostile_harness.py and scripted_peer.py.
"""

import glob
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import hostile_harness as h  # noqa: E402  pylint: disable=wrong-import-position
import scripted_peer as sp  # noqa: E402  pylint: disable=wrong-import-position

expect = h.expect
MIB = h.MIB

READ_ONLY_SCRIPT = r"""
mnt=$1 marker=$2
shift 2
mount -t tmpfs -o ro,size=4m spate-read-only "$mnt" || exit 97
: > "$marker"
exec "$@"
"""


def make_folder_payload(tmp, seed):
    """Three files in a folder (one spans several pieces, two share pieces), its torrent."""
    rng = random.Random(seed)
    root = os.path.join(tmp, "seed", "album")
    os.makedirs(os.path.join(root, "disc"))
    contents = {"a.bin": rng.randbytes(3 * MIB + 1234), "disc/b.bin": rng.randbytes(700_001),
                "disc/c.bin": rng.randbytes(2 * MIB + 77)}
    for rel, data in contents.items():
        with open(os.path.join(root, rel), "wb") as f:
            f.write(data)
    torrent_path = os.path.join(tmp, "album.torrent")
    proc = subprocess.run([h.SPATE, "create", root, "-o", torrent_path, "--piece-size",
                           str(h.PIECE)], capture_output=True, text=True, timeout=300)
    expect(proc.returncode == 0, f"spate create failed: {proc.stderr.strip()}")
    return contents, torrent_path, sp.Torrent.load(torrent_path), os.path.join(tmp, "seed")


def expect_files(out, contents):
    for rel, data in contents.items():
        h.expect_identical(os.path.join(out, "album", rel), data)


def full_download(procs, tmp, label, torrent_path, seed_dir, out):
    peers = h.Peers(procs, torrent_path, seed_dir, os.path.join(tmp, f"{label}.jsonl"),
                    ["127.0.0.2:0"])
    try:
        run = h.download(procs, tmp, label, torrent_path, out, peers.addrs())
        h.expect_done(run, label)
        return run, {e["piece"] for e in peers.events("request")}
    finally:
        peers.stop()


def test_read_only(tmp, procs):
    data, torrent_path, _, seed_dir = h.make_payload(tmp, "ro.bin", 2 * MIB, 11)
    del data, seed_dir
    mnt, marker = os.path.join(tmp, "mnt"), os.path.join(tmp, "mounted")
    os.makedirs(mnt)
    args = ["unshare", "--mount", "--propagation", "private", "sh", "-c", READ_ONLY_SCRIPT, "sh",
            mnt, marker, *h.download_args(torrent_path, os.path.join(mnt, "out"), [])]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=120)
    expect(os.path.exists(marker), f"could not mount a read-only tmpfs in a private mount "
                                   f"namespace (needs root; never skipped): exit "
                                   f"{proc.returncode}, {proc.stderr.strip()!r}")
    lines = proc.stderr.splitlines()
    expect(proc.returncode == 1, f"a read-only folder must end in exit 1, got "
                                 f"{proc.returncode}: {lines}")
    expect(len(lines) == 1 and lines[0].startswith("spate: ") and "read-only" in lines[0].lower()
           and "out" in lines[0], f"want one 'spate: ...' line naming the folder and the "
                                  f"read-only filesystem, got {lines}")
    print(f"read-only tmpfs: {lines[0]!r}")

    blocker = os.path.join(tmp, "a-file")
    with open(blocker, "wb") as f:
        f.write(b"not a folder")
    proc = subprocess.run(h.download_args(torrent_path, os.path.join(blocker, "out"), []),
                          capture_output=True, text=True, timeout=120)
    lines = proc.stderr.splitlines()
    expect(proc.returncode == 1 and len(lines) == 1 and lines[0].startswith("spate: "),
           f"a folder under a regular file: want exit 1 and one line, got "
           f"{proc.returncode}: {lines}")
    with open(blocker, "rb") as f:
        expect(f.read() == b"not a folder", "the regular file in the way was changed")
    print(f"folder under a file: {lines[0]!r}")


def test_files_gone(tmp, procs):
    contents, torrent_path, torrent, seed_dir = make_folder_payload(tmp, 12)
    out = os.path.join(tmp, "out")
    full_download(procs, tmp, "first", torrent_path, seed_dir, out)
    expect_files(out, contents)
    os.remove(os.path.join(out, "album", "disc", "c.bin"))
    cut = os.path.join(out, "album", "a.bin")
    os.truncate(cut, len(contents["a.bin"]) // 2)
    run, asked = full_download(procs, tmp, "rerun", torrent_path, seed_dir, out)
    checked = run.of("checked")
    expect(checked, f"the rerun printed no checked event: {run.describe()}")
    good = checked[0].get("good")
    expect(checked[0].get("fast_resume") is False,
           f"files changed since the resume file was written, yet it was trusted: {checked[0]}")
    expect(0 < good < torrent.piece_count,
           f"after deleting one file and cutting another, {good} of {torrent.piece_count} "
           f"pieces were found good")
    expect(len(asked) == torrent.piece_count - good,
           f"the rerun asked for {len(asked)} pieces; {torrent.piece_count - good} were missing")
    expect_files(out, contents)
    print(f"rerun: {good} of {torrent.piece_count} pieces good on disk, {len(asked)} fetched, "
          f"all three files byte-identical")


def corruptions(resume_bytes, other_hash):
    """(label, what to put where the resume file was) for every kind of damage; None
    puts a folder there."""
    resume, _ = sp.bdecode(resume_bytes)
    expect(isinstance(resume, dict) and b"have" in resume and b"info-hash" in resume,
           f"the resume file is not the dictionary this test damages: {resume_bytes[:80]!r}")

    def changed(**fields):
        copy = dict(resume)
        for key, value in fields.items():
            copy[key.replace("_", "-").encode()] = value
        return sp.bencode(copy)

    return [
        ("empty", b""),
        ("junk", random.Random(5).randbytes(333)),
        ("cut short", resume_bytes[:len(resume_bytes) // 2]),
        ("not a dictionary", b"li1ei2ee"),
        ("another torrent's", changed(info_hash=other_hash)),
        ("have of the wrong length", changed(have=resume[b"have"][:-1])),
        ("have of the wrong type", changed(have=12345)),
        ("absurd numbers", re.sub(rb"i-?[0-9]+e", b"i99999999999999999999999e", resume_bytes)),
        ("negative numbers", re.sub(rb"i([0-9]+)e", rb"i-\1e", resume_bytes)),
        ("a folder", None),
    ]


def test_corrupt_resume(tmp, procs):
    contents, torrent_path, torrent, seed_dir = make_folder_payload(tmp, 13)
    out = os.path.join(tmp, "out")
    full_download(procs, tmp, "first", torrent_path, seed_dir, out)
    resumes = glob.glob(os.path.join(out, ".spate", "*.resume"))
    expect(len(resumes) == 1, f"want one resume file after a download, found {resumes}")
    resume_path = resumes[0]
    with open(resume_path, "rb") as f:
        original = f.read()
    expect(b"9:info-hash20:" in original and b"4:have" in original,
           "the resume file does not hold the fields this test damages")
    # Pieces the rerun must not trust: a.bin is overwritten with other bytes of the same
    # size, so only a real check tells its pieces apart from good ones.
    a_path = os.path.join(out, "album", "a.bin")
    for label, damage in corruptions(original, bytes(range(20))):
        with open(a_path, "r+b") as f:
            f.write(b"\x00" * MIB)
        if damage is None:
            os.remove(resume_path)
            os.makedirs(resume_path)
        else:
            with open(resume_path, "wb") as f:
                f.write(damage)
        run, asked = full_download(procs, tmp, f"rerun-{label.replace(' ', '-')}", torrent_path,
                                   seed_dir, out)
        checked = run.of("checked")
        expect(checked and checked[0].get("fast_resume") is False,
               f"{label}: a damaged resume file was trusted: {checked}")
        expect(asked, f"{label}: the rerun fetched nothing, though a.bin was overwritten")
        expect_files(out, contents)
        if os.path.isdir(resume_path):
            # The data is complete and synced; only the shortcut for the next run is lost.
            expect("warning: cannot write the resume file" in run.stderr,
                   f"{label}: no warning that the resume file could not be written: "
                   f"{run.stderr.strip()!r}")
            shutil.rmtree(resume_path)
        print(f"{label}: rechecked ({checked[0].get('good')} of {torrent.piece_count} good), "
              f"fetched {len(asked)} pieces, byte-identical")


def test_one_thread(tmp, procs):
    data, torrent_path, torrent, seed_dir = h.make_payload(tmp, "thread.bin", 8 * MIB, 14)
    peers = h.Peers(procs, torrent_path, seed_dir, os.path.join(tmp, "peers.jsonl"),
                    ["127.0.0.2:0=slow:2m", "127.0.0.3:0=slow:2m"])
    try:
        out = os.path.join(tmp, "out")
        proc, _, _ = h.start_spate(procs, tmp, "spate",
                                   h.download_args(torrent_path, out, peers.addrs()))
        seen, samples, deadline = {}, 0, time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            for task in glob.glob(f"/proc/{proc.pid}/task/*"):
                try:
                    with open(os.path.join(task, "comm"), encoding="utf-8") as f:
                        seen[int(os.path.basename(task))] = f.read().strip()
                except OSError:
                    pass
            samples += 1
            time.sleep(0.05)
        rc, _, _, _ = h.wait_spate(proc, 60)
        expect(rc == 0, f"the download failed: exit {rc}")
        h.expect_identical(os.path.join(out, torrent.name), data)
        expect(samples >= 5, f"only {samples} samples of the threads were taken")
        others = {tid: name for tid, name in seen.items()
                  if tid != proc.pid and not name.startswith(("iou-wrk-", "iou-sqp-"))}
        expect(not others, f"spate ran threads of its own besides the main one: {others}")
        workers = sum(1 for tid in seen if tid != proc.pid)
        print(f"{samples} samples: one spate thread, {workers} io_uring worker threads seen")
    finally:
        peers.stop()


TESTS = {"read_only": test_read_only, "files_gone": test_files_gone,
         "corrupt_resume": test_corrupt_resume, "one_thread": test_one_thread}


def main(argv):
    if len(argv) < 1 or any(name not in TESTS for name in argv[1:]):
        print(__doc__, file=sys.stderr)
        return 2
    h.SPATE = os.path.abspath(argv[0])
    failures = []
    for name in argv[1:] or list(TESTS):
        started = time.monotonic()
        procs = h.Processes()
        with tempfile.TemporaryDirectory(prefix=f"spate-disk-{name}-") as tmp:
            try:
                TESTS[name](tmp, procs)
                print(f"ok   {name} ({time.monotonic() - started:.1f} s)", flush=True)
            except h.TestFailure as err:
                failures.append(name)
                print(f"FAIL {name}: {err}", flush=True)
            except Exception:  # pylint: disable=broad-except
                failures.append(name)
                print(f"FAIL {name}: the test itself broke:\n{traceback.format_exc()}", flush=True)
            finally:
                procs.stop_all()
    print(f"{len(failures)} of {len(argv[1:]) or len(TESTS)} failed: {failures}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
