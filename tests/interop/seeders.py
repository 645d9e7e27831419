"""Real third-party seeders, reference leechers and opentracker on loopback, for tests/interop.

Every program is started through a `processes` registry and stopped by its pid in
`processes.stop_all()`, which the caller runs in a `finally`. Every wait is bounded and raises
`setup_error` with a message that names the program and what it did not do.
../../shared/INTEROP.md (in the steering repo) says why each program is set up as it is.

Runs under Debian's /usr/bin/python3, the only python with the libtorrent module.
"""

import json
import os
import select
import shlex
import shutil
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request

import libtorrent as lt

LT_SEED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "lib",
                       "lt_seed.py")
SYSTEM_PYTHON = "/usr/bin/python3"


class setup_error(Exception):
    """A third-party program could not be started or did not become ready."""


def require_programs(*names):
    """Raises setup_error naming every program missing from PATH."""
    missing = [name for name in names if shutil.which(name) is None]
    if missing:
        raise setup_error("missing programs: " + ", ".join(missing) +
                          " (tools/check installs SPATE_INTEROP_PACKAGES)")


def free_port():
    """A 127.0.0.1 port free for both TCP and UDP at the time of the call."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp, \
                socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            tcp.bind(("127.0.0.1", 0))
            port = tcp.getsockname()[1]
            try:
                udp.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise setup_error("no port free for both TCP and UDP on 127.0.0.1")


def wait_for_tcp(port, seconds, proc=None, what="program"):
    """Waits until something accepts on 127.0.0.1:port; raises if proc exits first."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise setup_error(f"{what} exited with status {proc.returncode} before it listened "
                              f"on 127.0.0.1:{port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise setup_error(f"{what}: nothing listens on 127.0.0.1:{port} after {seconds} s")


class processes:
    """The processes a test started; stop_all() ends each by its pid, TERM then KILL."""

    def __init__(self):
        self.m_procs = []

    def start(self, args, **kw):
        proc = subprocess.Popen(args, **kw)
        self.m_procs.append(proc)
        return proc

    def stop(self, proc, seconds=10):
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=seconds)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=seconds)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()

    def stop_all(self):
        for proc in reversed(self.m_procs):
            self.stop(proc)
        self.m_procs.clear()


def tail(path, lines=5):
    """The last lines of a log (carriage-return status lines count as lines), shortened."""
    try:
        with open(path, errors="replace") as f:
            text = f.read().replace("\r", "\n")
    except OSError:
        return ""
    kept = [line.strip() for line in text.splitlines() if line.strip()][-lines:]
    return " | ".join(kept)[-600:]


# --- torrents -------------------------------------------------------------------------------

def info_hash(torrent):
    """The hex v1 info-hash of a .torrent file, as libtorrent computes it."""
    return str(lt.torrent_info(torrent).info_hashes().v1)


def with_announce(src, url, dst):
    """Writes dst: src with `url` as its only tracker and the info dict untouched.

    Raises if the info-hash changed (a re-encoding that was not byte-identical)."""
    with open(src, "rb") as f:
        meta = lt.bdecode(f.read())
    meta[b"announce"] = url.encode()
    meta.pop(b"announce-list", None)
    with open(dst, "wb") as f:
        f.write(lt.bencode(meta))
    if info_hash(dst) != info_hash(src):
        raise setup_error(f"re-encoding {src} changed its info-hash")
    return dst


def file_entries(torrent):
    """[(path relative to the save folder, length, is_pad)] of a torrent, in order."""
    files = lt.torrent_info(torrent).files()
    out = []
    for i in range(files.num_files()):
        pad = bool(files.file_flags(i) & lt.file_storage.flag_pad_file)
        out.append((files.file_path(i), files.file_size(i), pad))
    return out


def materialize_pad_files(torrent, save_dir):
    """Writes the torrent's BEP 47 pad files as zeros under save_dir.

    aria2c 1.36 and transmission 3.00 do not know pad files: they treat them as data
    that must be on disk before they seed."""
    for path, length, pad in file_entries(torrent):
        if pad:
            full = os.path.join(save_dir, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "wb") as f:
                f.truncate(length)


# --- opentracker ----------------------------------------------------------------------------

class opentracker:
    """Debian's opentracker on 127.0.0.1 in whitelist mode, serving HTTP and UDP on one port."""

    def __init__(self, procs, folder, info_hashes):
        # It chroots to `folder` and drops to nobody: the folder and whitelist must be
        # readable by nobody, and the whitelist is named relative to the chroot.
        os.makedirs(folder, exist_ok=True)
        os.chmod(folder, 0o755)
        whitelist = os.path.join(folder, "whitelist.txt")
        with open(whitelist, "w") as f:
            f.write("".join(h + "\n" for h in info_hashes))
        os.chmod(whitelist, 0o644)
        self.port = free_port()
        conf = os.path.join(folder, "opentracker.conf")
        with open(conf, "w") as f:
            f.write(f"listen.tcp_udp 127.0.0.1:{self.port}\naccess.whitelist /whitelist.txt\n"
                    f"tracker.rootdir {folder}\ntracker.user nobody\n")
        self.log = os.path.join(folder, "opentracker.log")
        with open(self.log, "w") as log:
            self.proc = procs.start(["opentracker", "-f", conf], stdout=log,
                                    stderr=subprocess.STDOUT)
        wait_for_tcp(self.port, 20, self.proc, "opentracker")
        self.http = f"http://127.0.0.1:{self.port}/announce"
        self.udp = f"udp://127.0.0.1:{self.port}"

    def scrape(self, hex_hash):
        """(complete, incomplete) for one info-hash, from an HTTP scrape."""
        raw = bytes.fromhex(hex_hash)
        url = (f"http://127.0.0.1:{self.port}/scrape?info_hash="
               f"{urllib.parse.quote_from_bytes(raw)}")
        with urllib.request.urlopen(url, timeout=5) as reply:
            body = lt.bdecode(reply.read())
        entry = (body or {}).get(b"files", {}).get(raw, {})
        return entry.get(b"complete", 0), entry.get(b"incomplete", 0)

    def wait_for_seeder(self, hex_hash, before, seconds, proc, what):
        """Waits until the tracker counts more seeders for hex_hash than `before` (its count
        when proc started); raises if proc exits first."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise setup_error(f"{what} exited with status {proc.returncode} before it "
                                  f"announced itself as a seeder")
            if self.scrape(hex_hash)[0] > before:
                return
            time.sleep(0.2)
        raise setup_error(f"{what} did not announce itself as a seeder to opentracker within "
                          f"{seconds} s")


# --- seeders --------------------------------------------------------------------------------
# Each takes a torrent whose tracker is an opentracker's http:// URL, the folder that holds
# the payload (the seeder may write state files into it: give it a copy), and returns the
# running process once the seeder is seeding and the tracker counts it.

def libtorrent_seeder(procs, tracker, torrent, save_dir, workdir):
    before = tracker.scrape(info_hash(torrent))[0]
    port = free_port()
    log = open(os.path.join(workdir, "lt_seed.log"), "w")
    proc = procs.start([SYSTEM_PYTHON, LT_SEED, torrent, save_dir, str(port),
                        "--ready-timeout", "60"],
                       stdout=subprocess.PIPE, stderr=log, text=True)
    log.close()
    deadline = time.monotonic() + 70
    line = ""
    while time.monotonic() < deadline and proc.poll() is None:
        ready, _, _ = select.select([proc.stdout], [], [], 0.5)
        if ready:
            line = proc.stdout.readline().strip()
            break
    if line != "ready":
        raise setup_error(f"lt_seed.py did not become ready (status {proc.poll()}): "
                          f"{tail(os.path.join(workdir, 'lt_seed.log'))}")
    tracker.wait_for_seeder(info_hash(torrent), before, 20, proc, "libtorrent seeder")
    return proc


def aria2_seeder(procs, tracker, torrent, save_dir, workdir):
    before = tracker.scrape(info_hash(torrent))[0]
    port = free_port()
    materialize_pad_files(torrent, save_dir)
    log = os.path.join(workdir, "aria2-seed.log")
    # --check-integrity hashes the data before seeding; --seed-ratio=0.0 seeds until stopped.
    # An http:// tracker, since aria2 reaches udp:// trackers only through its DHT socket.
    proc = procs.start(["aria2c", "--dir", save_dir, "--check-integrity=true",
                        "--seed-ratio=0.0", "--enable-dht=false", "--enable-dht6=false",
                        "--bt-enable-lpd=false", "--enable-peer-exchange=false",
                        "--interface=127.0.0.1", "--listen-port", str(port),
                        "--file-allocation=none", "--summary-interval=0",
                        "--log", log, "--log-level=notice", "--console-log-level=warn",
                        torrent],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_tcp(port, 30, proc, "aria2c seeder")
    try:
        tracker.wait_for_seeder(info_hash(torrent), before, 30, proc, "aria2c seeder")
    except setup_error as e:
        raise setup_error(f"{e}: {tail(log)}") from None
    return proc


def write_transmission_settings(config, port, download_dir):
    """Creates the config folder `config` with a settings.json for one transmission-cli on
    127.0.0.1:port that saves into download_dir: no DHT, LPD, PEX, uTP or port mapping (all
    it may learn of peers comes from the tracker or from peers that dial it), no limits."""
    os.makedirs(config)
    settings = {
        "dht-enabled": False, "lpd-enabled": False, "pex-enabled": False,
        "utp-enabled": False, "port-forwarding-enabled": False,
        "speed-limit-up-enabled": False, "speed-limit-down-enabled": False,
        "alt-speed-enabled": False, "ratio-limit-enabled": False,
        "idle-seeding-limit-enabled": False, "blocklist-enabled": False,
        "bind-address-ipv4": "127.0.0.1", "bind-address-ipv6": "::1",
        "peer-port": port, "peer-port-random-on-start": False,
        # 0: prefer plaintext; the dialling side's encrypted handshake stalls it.
        "encryption": 0,
        "download-dir": download_dir, "incomplete-dir-enabled": False,
        # Files keep their own names while incomplete: no .part left behind to compare.
        "rename-partial-files": False,
        "rpc-enabled": False, "message-level": 1,
    }
    with open(os.path.join(config, "settings.json"), "w") as f:
        json.dump(settings, f, indent=1)


def transmission_seeder(procs, tracker, torrent, save_dir, workdir):
    """transmission-cli 3.00 keys what it knows of a peer by address alone: once one
    127.0.0.1 leecher completed, it drops every later 127.0.0.1 connection as seed-to-seed.
    Start a fresh one for each download. It unchokes a new peer at its next 10 s rechoke."""
    before = tracker.scrape(info_hash(torrent))[0]
    port = free_port()
    materialize_pad_files(torrent, save_dir)
    # A fresh config folder each start: with no resume file it checks the data and seeds
    # (a restart that finds the first run's resume file stays at 0%).
    config = os.path.join(workdir, f"transmission-{port}")
    write_transmission_settings(config, port, save_dir)
    log = os.path.join(workdir, f"transmission-{port}.log")
    with open(log, "w") as out:
        # It never exits by itself: it seeds until stopped by its pid. No -v: with it,
        # transmission-cli now and then exits 0 at once (it sees the torrent stopped between
        # the stop and the verify); a torrent it has no resume file for is checked anyway.
        proc = procs.start(["transmission-cli", "-g", config, "-w", save_dir, "-p", str(port),
                            "-et", "-M", "-U", "-D", torrent],
                           stdout=out, stderr=subprocess.STDOUT)
    wait_for_tcp(port, 30, proc, "transmission-cli seeder")
    try:
        tracker.wait_for_seeder(info_hash(torrent), before, 45, proc, "transmission-cli seeder")
    except setup_error as e:
        raise setup_error(f"{e}: {tail(log)}") from None
    return proc


# Seeders that serve only one complete leecher per peer address (see transmission_seeder).
ONE_LEECHER_PER_ADDRESS = {"transmission"}

SEEDERS = {
    "libtorrent": libtorrent_seeder,
    "aria2": aria2_seeder,
    "transmission": transmission_seeder,
}


# --- reference leechers ---------------------------------------------------------------------
# Third-party leechers with spate's contract (torrent, output folder -> done or an error
# string), to prove each seeder setup good without spate.

def libtorrent_leech(procs, torrent, out_dir, seconds):
    """Downloads with libtorrent's python binding in a process of its own (this file's main)."""
    proc = procs.start([SYSTEM_PYTHON, os.path.abspath(__file__), "lt-leech", torrent, out_dir,
                        str(seconds)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    try:
        out, _ = proc.communicate(timeout=seconds + 15)
    except subprocess.TimeoutExpired:
        procs.stop(proc)
        return f"libtorrent leecher did not exit within {seconds + 15} s"
    if proc.returncode != 0:
        return f"libtorrent leecher failed ({proc.returncode}): {out.strip()[-400:]}"
    return None


def lt_leech_main(torrent, out_dir, seconds):
    """Downloads torrent into out_dir; prints "complete" the moment libtorrent reports it
    (tools/bench-download times that line), then closes the session and exits 0."""
    ses = lt.session({
        "listen_interfaces": f"127.0.0.1:{free_port()}", "outgoing_interfaces": "127.0.0.1",
        "enable_dht": False, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
        "enable_outgoing_utp": False, "enable_incoming_utp": False,
        "allow_multiple_connections_per_ip": True, "ssrf_mitigation": False,
        # Plaintext, as spate dials: transmission stalls or drops an encrypted handshake.
        "out_enc_policy": lt.enc_policy.disabled, "in_enc_policy": lt.enc_policy.disabled,
        "alert_mask": lt.alert.category_t.status_notification,
    })
    handle = ses.add_torrent({"ti": lt.torrent_info(torrent), "save_path": out_dir})
    deadline = time.monotonic() + seconds
    done = False
    while not done and time.monotonic() < deadline:
        ses.wait_for_alert(200)
        done = any(isinstance(a, lt.torrent_finished_alert) for a in ses.pop_alerts())
        done = done or handle.status().is_seeding
    if not done:
        status = handle.status()
        print(f"incomplete after {seconds} s: {status.num_pieces} pieces, "
              f"{status.num_peers} peers", flush=True)
        return 1
    print("complete", flush=True)
    # Removing the torrent and destroying the session close the files before the caller
    # compares them.
    ses.remove_torrent(handle)
    del ses
    return 0


def aria2_leech(procs, torrent, out_dir, seconds):
    """Downloads with aria2c; udp:// trackers go through its DHT socket (no entry point)."""
    args = ["aria2c", "--dir", out_dir, "--seed-time=0", "--bt-enable-lpd=false",
            "--enable-peer-exchange=false", "--file-allocation=falloc",
            "--interface=127.0.0.1", "--listen-port", str(free_port()),
            "--summary-interval=0", "--console-log-level=warn", "--enable-dht6=false"]
    udp = next(iter(lt.torrent_info(torrent).trackers())).url.startswith("udp://")
    if udp:
        dht = os.path.join(out_dir + ".dht")
        os.makedirs(dht, exist_ok=True)
        args += ["--enable-dht=true", f"--dht-file-path={dht}/dht.dat",
                 f"--dht-listen-port={free_port()}"]
    else:
        args += ["--enable-dht=false"]
    proc = procs.start(args + [torrent], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    try:
        out, _ = proc.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        procs.stop(proc)
        return f"aria2c did not finish within {seconds} s"
    if proc.returncode != 0:
        return f"aria2c exited with status {proc.returncode}: {out.strip()[-300:]}"
    return None


def transmission_leech(procs, torrent, out_dir, seconds):
    """Downloads with transmission-cli into out_dir; its config folder, log and finish
    script go into the sibling folder out_dir + ".transmission".

    It drops 127.x peers that a tracker returns: only a peer that dials it can serve it.
    It never exits by itself: its -f script marks completion in a file, then it is stopped."""
    port = free_port()
    state = out_dir + ".transmission"
    config = os.path.join(state, "config")
    write_transmission_settings(config, port, out_dir)
    marker = os.path.join(state, "finished")
    script = os.path.join(state, "finished.sh")
    with open(script, "w") as f:
        f.write(f"#!/bin/sh\ntouch {shlex.quote(marker)}\n")
    os.chmod(script, 0o755)
    log = os.path.join(state, "transmission.log")
    with open(log, "w") as out:
        proc = procs.start(["transmission-cli", "-g", config, "-w", out_dir, "-p", str(port),
                            "-et", "-M", "-U", "-D", "-f", script, torrent],
                           stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + seconds
    while not os.path.exists(marker):
        if proc.poll() is not None:
            return (f"transmission-cli exited with status {proc.returncode} before it "
                    f"finished: {tail(log)}")
        if time.monotonic() >= deadline:
            procs.stop(proc)
            return f"transmission-cli did not finish within {seconds} s: {tail(log)}"
        time.sleep(0.2)
    # SIGINT is its orderly exit: it closes the session, which writes what its block cache
    # still holds, so the files are whole before the caller compares them. TERM would end
    # it without that. stop() remains the bound if it does not exit.
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        procs.stop(proc)
        return f"transmission-cli finished but did not exit within 20 s of SIGINT: {tail(log)}"
    procs.stop(proc)
    return None


# download_interop.py --leecher picks from these. transmission_leech is not one of them: no
# seeder there dials its leecher (each announced before the leecher existed), and transmission
# drops the 127.0.0.1 peers the tracker gives it, so every case would fail.
REFERENCE_LEECHERS = {
    "libtorrent": libtorrent_leech,
    "aria2": aria2_leech,
}


if __name__ == "__main__":
    import sys
    if len(sys.argv) == 5 and sys.argv[1] == "lt-leech":
        sys.exit(lt_leech_main(sys.argv[2], sys.argv[3], float(sys.argv[4])))
    print("usage: seeders.py lt-leech TORRENT OUT_DIR SECONDS", file=sys.stderr)
    sys.exit(2)
