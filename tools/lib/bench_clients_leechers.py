"""The five leechers of tools/bench-clients: their settings, how each is started, how its
completion is seen, and one measured, verified download.

Runs under Debian's /usr/bin/python3 (tests/interop/seeders.py imports libtorrent).
"""

import json
import os
import shlex
import shutil
import signal
import subprocess
import time

import seeders  # tests/interop/seeders.py: free_port, tail, transmission settings, lt-leech

CLIENTS = ("spate", "libtorrent", "aria2", "transmission", "rtorrent")

# Each client's settings, as the table's notes print them. All: TCP only on 127.0.0.1, no
# DHT/LSD/PEX/UPnP (nothing leaves loopback, and every peer comes from the tracker or dials
# in), no rate limits, at least 200 connections, local peers allowed.
SETTINGS = {
    "spate": "spate download T -o DIR --json; defaults: 200 connections, 256 MiB piece "
             "memory, no rate limits, sparse files",
    "libtorrent": "tests/interop/seeders.py lt-leech: libtorrent defaults (200 connections, no "
                  "rate limits) + allow_multiple_connections_per_ip, no uTP, plaintext",
    "aria2": "aria2c --seed-time=0 --bt-max-peers=0 (no cap; default 55) "
             "--file-allocation=falloc, DHT/LPD/PEX off, default 16 MiB disk cache",
    "transmission": "transmission-cli settings.json: peer-limit-per-torrent 250, "
                    "peer-limit-global 500, cache-size-mb 64 (default 4), speed limits off, "
                    "encryption preferred off, DHT/LPD/PEX/uTP off",
    "rtorrent": "rtorrent -n -o import=RC: daemon mode, max_peers 250, rates 0 (unlimited), "
                "encryption none, DHT/PEX off, pieces.hash.on_completion no (on by "
                "default, it re-hashes the whole download once complete)",
}

# What "complete" means for the wall time, and whether data was fsynced by then.
COMPLETION = {
    "spate": "process exit (it verifies and fsyncs before it exits)",
    "libtorrent": "torrent_finished_alert (lt-leech prints 'complete'); no fsync",
    "aria2": "--on-bt-download-complete hook ran; no fsync",
    "transmission": "-f completion script ran; no fsync",
    "rtorrent": "event.download.finished handler ran (it touches a file); no fsync",
}

# Clients that never exit by themselves: SIGINT is their orderly exit (it writes what their
# caches hold), sent once they reported completion.
STOPPED_BY_SIGINT = {"transmission", "rtorrent"}
# Clients that never dial a 127.0.0.1 peer a tracker gave them: the seeder must dial them.
NEED_DIAL = {"transmission", "rtorrent"}

SEEDERS_PY = os.path.join(os.path.dirname(os.path.abspath(seeders.__file__)), "seeders.py")
POLL = 0.005  # seconds between looks at a run's state: small next to transfers of seconds


def write_marker_script(path, marker):
    with open(path, "w") as f:
        f.write(f"#!/bin/sh\n: > {shlex.quote(marker)}\n")
    os.chmod(path, 0o755)


def transmission_config(state, port, out_dir):
    config = os.path.join(state, "config")
    seeders.write_transmission_settings(config, port, out_dir)
    path = os.path.join(config, "settings.json")
    with open(path) as f:
        settings = json.load(f)
    # Its defaults (50 peers per torrent, 240 in all) would refuse most of a 200-peer swarm;
    # a 4 MiB write cache is tuned for home routers, not for GB/s.
    settings.update({"peer-limit-per-torrent": 250, "peer-limit-global": 500,
                     "cache-size-mb": 64})
    with open(path, "w") as f:
        json.dump(settings, f, indent=1)
    return config


def rtorrent_rc(state, port, out_dir, torrent, marker):
    session = os.path.join(state, "session")
    os.makedirs(session)
    rc = os.path.join(state, "rtorrent.rc")
    lines = [
        "system.daemon.set = true",  # headless; -o alone rejects method.set_key
        f"directory.default.set = {out_dir}",
        f"session.path.set = {session}",
        "network.bind_address.set = 127.0.0.1",
        "network.local_address.set = 127.0.0.1",
        f"network.port_range.set = {port}-{port}",
        "network.port_random.set = no",
        "dht.mode.set = disable",
        "protocol.pex.set = no",
        "protocol.encryption.set = none",
        "throttle.global_down.max_rate.set = 0",
        "throttle.global_up.max_rate.set = 0",
        "throttle.max_peers.normal.set = 250",
        "throttle.max_uploads.set = 100",
        "pieces.hash.on_completion.set = no",
        # execute.nothrow takes the program and its arguments as comma-separated values
        # (the work folder's paths hold no commas or spaces).
        f'method.set_key = event.download.finished, bench_done, '
        f'"execute.nothrow = touch, {marker}"',
        f"load.start = {torrent}",
    ]
    with open(rc, "w") as f:
        f.write("\n".join(lines) + "\n")
    return rc


def command(name, ctx, torrent, out_dir, state, port, marker):
    """The argv that runs client `name` downloading torrent into out_dir."""
    if name == "spate":
        return [ctx.spate, "download", torrent, "-o", out_dir, "--json"]
    if name == "libtorrent":
        return ["/usr/bin/python3", SEEDERS_PY, "lt-leech", torrent, out_dir,
                str(int(ctx.timeout) + 30)]
    if name == "aria2":
        hook = os.path.join(state, "done.sh")
        write_marker_script(hook, marker)
        return ["aria2c", "--dir", out_dir, "--seed-time=0", "--enable-dht=false",
                "--enable-dht6=false", "--bt-enable-lpd=false", "--enable-peer-exchange=false",
                "--file-allocation=falloc", "--interface=127.0.0.1", "--disable-ipv6=true",
                "--bt-max-peers=0", "--max-overall-download-limit=0",
                "--listen-port", str(port), "--summary-interval=0",
                "--console-log-level=warn", f"--on-bt-download-complete={hook}", torrent]
    if name == "transmission":
        script = os.path.join(state, "done.sh")
        write_marker_script(script, marker)
        config = transmission_config(state, port, out_dir)
        return ["transmission-cli", "-g", config, "-w", out_dir, "-p", str(port),
                "-et", "-M", "-U", "-D", "-f", script, torrent]
    if name == "rtorrent":
        return ["rtorrent", "-n", "-o",
                "import=" + rtorrent_rc(state, port, out_dir, torrent, marker)]
    raise ValueError(name)


def is_complete(name, stdout_path, marker, exited_ok):
    if name == "spate":
        return exited_ok
    if name == "libtorrent":
        with open(stdout_path, errors="replace") as f:
            return "complete" in f.read().split()
    return os.path.exists(marker)


def listening(port):
    """True when something listens on TCP port `port`, read from /proc/net/tcp and tcp6
    (rtorrent listens on a v4-mapped IPv6 socket). Asking by connecting would hand the
    client a bogus peer."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                        return True
        except OSError:
            continue  # no IPv6
    return False


def vm_hwm_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def fsync_tree(root):
    for dirpath, _, names in os.walk(root):
        for name in names:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def run(name, ctx, torrent, size, tag, dial=None):
    """One download by client `name` into a fresh folder, measured and verified.

    ctx: spate (binary), work (folder), timeout (s), pin (core or None), keep (bool).
    dial(port): asks the seeder to dial the leecher (for NEED_DIAL clients), or None.
    Returns {"client", "wall", "wall_fsync", "cpu", "rss_mib"} or {"client", "error"}
    ("timeout" when it did not complete within ctx.timeout)."""
    out_dir = os.path.join(ctx.work, f"out-{tag}")
    state = os.path.join(ctx.work, f"state-{tag}")
    os.makedirs(out_dir)
    os.makedirs(state)
    stdout_path = os.path.join(state, "stdout")
    stderr_path = os.path.join(state, "stderr")
    marker = os.path.join(state, "complete")
    port = seeders.free_port()
    argv = command(name, ctx, torrent, out_dir, state, port, marker)
    if ctx.pin is not None:
        argv = ["taskset", "-c", str(ctx.pin)] + argv  # taskset execs: the pid is the client's
    result = {"client": name}
    with open(stdout_path, "w") as out, open(stderr_path, "w") as err:
        t0 = time.monotonic()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                cwd=state)
    complete_at = status = rusage = None
    hwm = 0
    dial_at = None if dial is None or name not in NEED_DIAL else t0
    interrupt_at = None
    deadline = t0 + ctx.timeout
    try:
        while time.monotonic() < deadline:
            # VmHWM is polled: wait4's ru_maxrss would also count this python process,
            # whose memory the child had between vfork and exec.
            hwm = max(hwm, vm_hwm_kib(proc.pid))
            pid, wstatus, ru = os.wait4(proc.pid, os.WNOHANG)
            if pid == proc.pid:
                rusage, status = ru, os.waitstatus_to_exitcode(wstatus)
                proc.returncode = status  # reaped here: keep Popen from waiting again
            if complete_at is None and is_complete(name, stdout_path, marker,
                                                   rusage is not None and status == 0):
                complete_at = time.monotonic()
                fsync_tree(out_dir)
                result["wall_fsync"] = time.monotonic() - t0
                if name in STOPPED_BY_SIGINT and rusage is None:
                    proc.send_signal(signal.SIGINT)
                    interrupt_at = time.monotonic()
                    deadline = min(deadline + 30, interrupt_at + 30)
            if rusage is not None:
                break
            now = time.monotonic()
            if dial_at is not None and complete_at is None and now >= dial_at:
                # Dial once it listens, then again every 3 s in case a dial was dropped.
                if listening(port):
                    dial(port)
                    dial_at = now + 3
                else:
                    dial_at = now + 0.05
            time.sleep(POLL)
    finally:
        if rusage is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    if complete_at is None:
        result["error"] = ("timeout" if rusage is None else
                           f"exited {status} before it completed: "
                           f"{seeders.tail(stderr_path) or seeders.tail(stdout_path)}")
    elif rusage is None:
        result["error"] = "completed but did not exit within 30 s of SIGINT"
    elif status != 0 and not (name in STOPPED_BY_SIGINT and interrupt_at is not None):
        result["error"] = f"exit status {status}: {seeders.tail(stderr_path)}"
    else:
        check = subprocess.run(
            (["taskset", "-c", str(ctx.pin)] if ctx.pin is not None else [])
            + [ctx.spate, "verify", torrent, "--data", out_dir],
            capture_output=True, text=True, timeout=600)
        if check.returncode != 0:
            result["error"] = (f"spate verify failed ({check.returncode}): "
                               f"{(check.stdout + check.stderr).strip()[-300:]}")
        else:
            result["wall"] = complete_at - t0
            result["cpu"] = rusage.ru_utime + rusage.ru_stime
            result["rss_mib"] = hwm / 1024
            result["mb"] = size / 1e6
    if ctx.keep and "error" in result:
        ctx.kept = True  # the caller then leaves the work folder in place
        print(f"  kept {state}", flush=True)
    else:
        shutil.rmtree(state, ignore_errors=True)
    shutil.rmtree(out_dir, ignore_errors=True)
    return result
