#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""bench/bench.py - time kakou and its peers side by side on one data set.

Called by bench/run.sh, which prepares the data set and the certificate and
passes everything on the command line (see --help). Each timed run spawns
the tool with posix_spawn and reaps it with wait4, so wall time, user and
system CPU and peak RSS belong to that one process (and any children it
waited for); nothing else the machine runs is counted.

Batch rows: rounds are interleaved (round-robin over the tools, the order
rotated each round) after one warm-up round that is not counted; every run
writes into a fresh output folder that is deleted, and the file system
synced, before the next run starts. Reported: medians over the rounds.

Latency rows: one file, process start included, interleaved the same way,
median of --latency-runs runs after a few warm-up runs.

A tool that is missing or fails is reported as n/a with the reason; only a
harness error gives a non-zero exit status.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from phi_tags import dcmodify_args, gdcmanon_dumb_args  # noqa: E402

ARG_BYTES_PER_CALL = 1 << 20  # split long file lists well below ARG_MAX

# Goals from the issue (kakou, jp-pseudonymized with store).
GOAL_RATIO_TO_CP = 1.10
GOAL_USER_MS_PER_HALF_MB = 0.1
GOAL_RSS_MIB = 20.0
GOAL_LATENCY_MS = 3.0
GOAL_TEXT_SEARCH_EXTRA = 0.25  # issue 14: wall added by the burned-in text search
GOAL_CLEAN_EXTRA_MS = 0.1      # issue 13: user CPU per file added by cleaning free text


class HarnessError(Exception):
    pass


# --- running one process ------------------------------------------------------


class Run:
    """One timed process: wall s, user s, sys s, maxrss KiB, exit status."""

    __slots__ = ("wall", "user", "sys", "rss_kib", "status", "err")

    def __init__(self, wall=0.0, user=0.0, sys_=0.0, rss_kib=0, status=0, err=""):
        self.wall, self.user, self.sys, self.rss_kib = wall, user, sys_, rss_kib
        self.status, self.err = status, err

    def add(self, other: "Run") -> None:
        self.wall += other.wall
        self.user += other.user
        self.sys += other.sys
        self.rss_kib = max(self.rss_kib, other.rss_kib)
        if other.status != 0 and self.status == 0:
            self.status, self.err = other.status, other.err


RUNNER: str | None = None  # bench/rusage.c, compiled by run.sh


def spawn(argv: list[str], errfile: str) -> Run:
    """Run argv to completion; stdout to /dev/null, stderr to errfile.
    Through the rusage runner when there is one (true peak RSS), else
    directly (RSS then includes this interpreter's: an upper bound)."""
    if RUNNER:
        p = subprocess.run([RUNNER, errfile, *argv], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            wall_ns, user_us, sys_us, rss, status = (int(x) for x in p.stdout.split())
        except ValueError:
            raise HarnessError(f"rusage runner failed (exit {p.returncode}): "
                               f"{first_line(p.stderr.decode('utf-8', 'replace'))}")
        return Run(wall_ns / 1e9, user_us / 1e6, sys_us / 1e6, rss, status,
                   read_err(errfile) if status != 0 else "")
    exe = argv[0] if os.sep in argv[0] else shutil.which(argv[0])
    if exe is None:
        return Run(status=127, err=f"{argv[0]}: not found")
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
        (os.POSIX_SPAWN_OPEN, 2, errfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644),
    ]
    t0 = time.perf_counter()
    try:
        pid = os.posix_spawn(exe, argv, os.environ, file_actions=actions)
    except OSError as exc:
        return Run(status=126, err=f"{argv[0]}: {exc}")
    _, wstatus, ru = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    if os.WIFSIGNALED(wstatus):
        status = 128 + os.WTERMSIG(wstatus)
    else:
        status = os.WEXITSTATUS(wstatus)
    return Run(wall, ru.ru_utime, ru.ru_stime, ru.ru_maxrss, status,
               read_err(errfile) if status != 0 else "")


def read_err(errfile: str) -> str:
    """The first line of a failed command's stderr, for the n/a note."""
    try:
        with open(errfile, encoding="utf-8", errors="replace") as f:
            for ln in f:
                if ln.strip():
                    return ln.strip()[:160]
    except OSError:
        pass
    return ""


def spawn_all(cmds: list[list[str]], errfile: str) -> Run:
    total = Run()
    for argv in cmds:
        total.add(spawn(argv, errfile))
        if total.status != 0:
            break
    return total


def chunked(prefix: list[str], files: list[str]) -> list[list[str]]:
    """prefix + files, split into several command lines if very long."""
    cmds, cur, size = [], [], 0
    for f in files:
        if cur and size + len(f) + 1 > ARG_BYTES_PER_CALL:
            cmds.append(prefix + cur)
            cur, size = [], 0
        cur.append(f)
        size += len(f) + 1
    if cur:
        cmds.append(prefix + cur)
    return cmds


def rmtree(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)


def list_files(root: str) -> list[str]:
    out = []
    for r, dirs, files in os.walk(root):
        dirs.sort()
        out += [os.path.join(r, f) for f in sorted(files) if not f.startswith(".")]
    return out


def quiet(argv: list[str], timeout=120) -> tuple[int, str]:
    """Run an untimed helper command; (status, stdout+stderr)."""
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=timeout)
        return p.returncode, p.stdout.decode("utf-8", "replace")
    except (OSError, subprocess.TimeoutExpired) as exc:
        return 127, str(exc)


def first_line(text: str) -> str:
    for ln in text.splitlines():
        if ln.strip():
            return ln.strip()[:160]
    return ""


# --- the tools ----------------------------------------------------------------


class Tool:
    """A row. batch(inp, out, run_dir) -> (untimed setup commands, timed
    commands); single(file, out, run_dir) likewise for one file. Anything
    else a run needs (a store) goes under run_dir, deleted after the run."""

    def __init__(self, key: str, label: str, batch=None, single=None, note: str = "",
                 available: bool = True, why_na: str = "", check_phi: bool = True):
        self.key, self.label, self.note = key, label, note
        self.batch_fn, self.single_fn = batch, single
        self.available, self.why_na = available, why_na
        self.check_phi = check_phi
        self.runs: list[Run] = []
        self.lat: list[Run] = []
        self.lat_failed = ""
        self.out_files: int | None = None
        self.phi: str = ""

    def fail(self, why: str) -> None:
        if self.available:
            self.available, self.why_na = False, why


def cp_row() -> Tool:
    return Tool("cp", "cp -r (floor)",
                batch=lambda inp, out, rd: ([], [["cp", "-r", inp, out]]),
                single=lambda f, out, rd: ([], [["cp", f, out + "/"]]), check_phi=False)


def true_row() -> Tool:
    return Tool("true", "/bin/true (spawn floor)", single=lambda f, out, rd: ([], [["/bin/true"]]),
                check_phi=False)


def gdcmanon_e_row(cert: str | None) -> Tool:
    t = Tool("gdcmanon-e", "gdcmanon -e (PS3.15 E.1, CMS)",
             batch=lambda inp, out, rd: ([], [["gdcmanon", "-e", "--continue", "-r", "-c", cert,
                                              "-i", inp, "-o", out]]),
             single=lambda f, out, rd: ([], [["gdcmanon", "-e", "-c", cert, "-i", f,
                                             "-o", os.path.join(out, "o.dcm")]]),
             note="keeps private tags; random UIDs per process")
    if not shutil.which("gdcmanon"):
        t.fail("gdcmanon not installed")
    elif not cert:
        t.fail("no certificate (openssl missing?)")
    return t


def gdcmanon_dumb_row() -> Tool:
    args = gdcmanon_dumb_args()
    t = Tool("gdcmanon-dumb", "gdcmanon --dumb (tag list)",
             batch=lambda inp, out, rd: ([], [["gdcmanon", *args, "--continue", "-r",
                                              "-i", inp, "-o", out]]),
             single=lambda f, out, rd: ([], [["gdcmanon", *args, "-i", f,
                                             "-o", os.path.join(out, "o.dcm")]]),
             note=f"{len(args) // 2} tags, top level; keeps private")
    if not shutil.which("gdcmanon"):
        t.fail("gdcmanon not installed")
    return t


def dcmodify_row() -> Tool:
    args = ["-nb", "-q", "-ie", "-imt", *dcmodify_args()]

    def batch(inp, out, rd):
        # dcmodify edits in place: copy first (untimed), then one batch call.
        return [["cp", "-r", inp, out]], None  # timed command built after the copy

    def single(f, out, rd):
        dst = os.path.join(out, os.path.basename(f))
        return [["cp", f, dst]], [["dcmodify", *args, dst]]

    t = Tool("dcmodify", "dcmodify (tag list, in place)", batch=batch, single=single,
             note="-ma/-ea on copies, -ep; no UID remap")
    t.dcmodify_prefix = ["dcmodify", *args]
    if not shutil.which("dcmodify"):
        t.fail("dcmodify not installed")
    return t


def pydicom_row(python: str) -> Tool:
    script = os.path.join(HERE, "pydicom_deid.py")
    return Tool("pydicom", "pydicom script (tag list)",
                batch=lambda inp, out, rd: ([], [[python, script, out, inp]]),
                single=lambda f, out, rd: ([], [[python, script, out, f]]),
                note="one process; top level + remove private")


# --- kakou probing ------------------------------------------------------------


def kakou_rows(kakou: str, probe_file: str, work: str, user_key: str | None,
               log) -> list[Tool]:
    basic = Tool("kakou-basic", "kakou dicom-basic")
    jp = Tool("kakou-jp", "kakou jp-pseudonymized +store")
    rows = [basic, jp]
    if not kakou or not os.path.isfile(kakou) or not os.access(kakou, os.X_OK):
        for t in rows:
            t.fail(f"not built ({kakou or '$KAKOU unset'})")
        return rows

    rc, help_text = quiet([kakou, "deid", "--help"], timeout=20)
    has_j = bool(re.search(r"(^|[\s\[,])(-j\b|--jobs\b)", help_text))
    log(f"kakou: deid --help exit {rc}; -j {'mentioned' if has_j else 'not mentioned'}")

    probe_out = os.path.join(work, "probe-out")

    def probe(argv: list[str]) -> tuple[bool, str]:
        rmtree(probe_out)
        os.makedirs(probe_out)
        r = spawn(argv, os.path.join(work, "probe.err"))
        n = len(list_files(probe_out))
        rmtree(probe_out)
        if r.status != 0:
            return False, f"exit {r.status}: {r.err}" if r.err else f"exit {r.status}"
        if n == 0:
            return False, "exit 0 but wrote no file"
        return True, ""

    # dicom-basic
    basic_args = ["deid", "-p", "dicom-basic"]
    ok, why = probe([kakou, *basic_args, "-o", probe_out, probe_file])
    if ok:
        basic.batch_fn = lambda inp, out, rd, extra=(): (
            [], [[kakou, *basic_args, *extra, "-o", out, inp]])
        basic.single_fn = lambda f, out, rd, a=basic_args: ([], [[kakou, *a, "-o", out, f]])
    else:
        basic.fail(f"deid -p dicom-basic failed: {why}")
    log(f"kakou: dicom-basic probe: {'ok' if ok else why}")

    # jp-pseudonymized needs a key and a store.
    key = user_key
    if not key:
        key = os.path.join(work, "kakou-bench.key")
        rmtree(key)
        _, key_help = quiet([kakou, "key", "--help"], timeout=20)
        cands = [["key", "generate", key], ["key", "gen", key], ["key", "new", key],
                 ["key", "create", key], ["key", "generate", "-o", key], ["key", "new", "-o", key],
                 ["key", "-o", key]]
        # Try first the verbs the help text mentions.
        cands.sort(key=lambda c: 0 if re.search(rf"\b{re.escape(c[1])}\b", key_help) else 1)
        for c in cands:
            r, _ = quiet([kakou, *c], timeout=20)
            if r == 0 and os.path.isfile(key):
                log(f"kakou: key made with 'kakou {' '.join(c[:-1])} KEY'")
                break
            rmtree(key)
        else:
            key = None
    if key is None:
        jp.fail("could not make a key (kakou key ...; set BENCH_KAKOU_KEY)")
        log("kakou: no key")
        return finish_kakou(rows, has_j)

    probe_db = os.path.join(work, "probe.db")
    jp_args = ["deid", "-p", "jp-pseudonymized", "-k", key]
    rmtree(probe_db)
    ok, why = probe([kakou, *jp_args, "--db", probe_db, "-o", probe_out, probe_file])
    db_init: list[str] | None = None
    if not ok:
        # Maybe the store must exist first.
        for c in (["db", "init"], ["db", "create"]):
            rmtree(probe_db)
            r, _ = quiet([kakou, *c, probe_db], timeout=20)
            if r == 0:
                ok2, _ = probe([kakou, *jp_args, "--db", probe_db, "-o", probe_out, probe_file])
                if ok2:
                    ok, db_init = True, c
                    break
    rmtree(probe_db)
    log(f"kakou: jp-pseudonymized probe: {'ok' if ok else why}"
        + (f" (store made first with 'kakou {' '.join(db_init)}')" if db_init else ""))
    if not ok:
        jp.fail(f"deid -p jp-pseudonymized failed: {why}")
        return finish_kakou(rows, has_j)

    def jp_setup(db: str) -> list[list[str]]:
        return [[kakou, *db_init, db]] if db_init else []

    def jp_batch(inp, out, rd, extra=()):
        db = os.path.join(rd, "store.db")  # fresh store each run
        return jp_setup(db), [[kakou, *jp_args, *extra, "--db", db, "-o", out, inp]]

    lat_db = os.path.join(work, "latency-store.db")

    def jp_single(f, out, rd):
        # One more file into an existing store (made by the warm-up runs).
        setup = jp_setup(lat_db) if not os.path.exists(lat_db) else []
        return setup, [[kakou, *jp_args, "--db", lat_db, "-o", out, f]]

    jp.batch_fn, jp.single_fn = jp_batch, jp_single
    jp.note = "fresh store per run"

    # The shipped profile with some of its 'enable' lines left out, for
    # what they cost: the burned-in text search (issue 14's budget: <= 25%
    # more wall on a set with no text) and the cleaning of free text
    # (issue 13's: <= 0.1 ms more user CPU per file).
    src = os.path.join(HERE, "..", "profiles", "jp-pseudonymized.kkp")
    for key_, label, name, drop in (
            ("kakou-jp-nopix", "kakou jp-pseudonymized, no text search +store", "jp-nopix",
             ["clean-pixel-data"]),
            ("kakou-jp-noclean", "kakou jp-pseudonymized, no text cleaning +store", "jp-noclean",
             ["clean-descriptors", "clean-structured-content"])):
        t = Tool(key_, label)
        rows.append(t)
        path, why = jp_variant(src, os.path.join(work, name + ".kkp"), name, drop)
        if not path:
            t.fail(why)
            continue

        def v_batch(inp, out, rd, extra=(), path=path):
            db = os.path.join(rd, "store.db")
            return jp_setup(db), [[kakou, "deid", "-p", path, "-k", key, *extra,
                                   "--db", db, "-o", out, inp]]

        t.batch_fn = v_batch
        t.note = "fresh store per run; compare with jp-pseudonymized"
    return finish_kakou(rows, has_j)


def jp_variant(src: str, dst: str, name: str, drop: list[str]) -> tuple[str, str]:
    """Write src with its 'enable OPTION' lines for drop left out, renamed
    name, to dst: (dst, "") or ("", why not)."""
    try:
        with open(src, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        return "", f"cannot read {src}: {e}"
    for opt in drop:
        line = f"\nenable {opt}\n"
        if text.count(line) != 1:
            return "", f"no single 'enable {opt}' line in {src}"
        text = text.replace(line, "\n")
    text = text.replace("\nprofile jp-pseudonymized\n", f"\nprofile {name}\n")
    with open(dst, "w", encoding="utf-8") as f:
        f.write(text)
    return dst, ""


def finish_kakou(rows: list[Tool], has_j: bool) -> list[Tool]:
    """Add -j1/-j2 rows when deid takes -j."""
    if not has_j:
        return rows
    out = []
    for t in rows:
        out.append(t)
        for j in (1, 2):
            r = Tool(f"{t.key}-j{j}", f"{t.label} -j{j}", available=t.available,
                     why_na="as above" if not t.available else "")
            if t.available and t.batch_fn:
                r.batch_fn = lambda inp, out_, rd, j=j, base=t.batch_fn: base(
                    inp, out_, rd, extra=(f"-j{j}",))
            r.note = t.note
            out.append(r)
    return out


# --- measuring ------------------------------------------------------------------


class Bench:
    def __init__(self, args):
        self.a = args
        self.work = args.work
        self.err = os.path.join(self.work, "run.err")
        self.log_lines: list[str] = []

    def log(self, msg: str) -> None:
        self.log_lines.append(msg)
        print(f"bench: {msg}", file=sys.stderr, flush=True)

    def fresh(self, name: str) -> str:
        d = os.path.join(self.work, name)
        rmtree(d)
        os.makedirs(d)
        return d

    def one_batch(self, t: Tool, files: list[str], check: bool) -> Run | None:
        rd = self.fresh("run")
        out = os.path.join(rd, "out")
        setup, timed = t.batch_fn(self.a.data, out, rd)
        for c in setup:
            st, txt = quiet(c, timeout=3600)
            if st != 0:
                raise HarnessError(f"{t.label}: setup {' '.join(c[:3])}... failed: {first_line(txt)}")
        if timed is None:  # dcmodify: the file list of the copy
            copies = [os.path.join(out, os.path.relpath(f, self.a.data)) for f in files]
            timed = chunked(t.dcmodify_prefix, copies)
        os.sync()
        r = spawn_all(timed, self.err)
        if r.status == 0 and check:
            outs = list_files(out) if os.path.isdir(out) else []
            t.out_files = len(outs)
            if t.check_phi:
                t.phi = phi_check(outs, self.ids, self.names)
        rmtree(rd)
        os.sync()
        return r

    def run_batch(self, tools: list[Tool], files: list[str]) -> None:
        rows = [t for t in tools if t.available and t.batch_fn]
        total = self.a.warmup + self.a.rounds
        for rnd in range(total):
            counted = rnd >= self.a.warmup
            tag = f"round {rnd - self.a.warmup + 1}/{self.a.rounds}" if counted else "warm-up"
            k = rnd % len(rows) if rows else 0
            order = rows[k:] + rows[:k]
            for t in order:
                if not t.available:
                    continue
                r = self.one_batch(t, files, check=not counted)
                if r.status != 0:
                    t.fail(f"exit {r.status}" + (f": {r.err}" if r.err else ""))
                    self.log(f"{tag}: {t.label}: FAILED ({t.why_na})")
                    continue
                self.log(f"{tag}: {t.label}: {r.wall:.3f} s wall, {r.user:.3f} s user, "
                         f"{r.rss_kib / 1024:.1f} MiB")
                if counted:
                    t.runs.append(r)

    def run_latency(self, tools: list[Tool], f: str) -> None:
        rows = [t for t in tools if t.single_fn and t.available]
        warm = 3
        for i in range(warm + self.a.latency_runs):
            k = i % len(rows) if rows else 0
            for t in rows[k:] + rows[:k]:
                if t.lat_failed:
                    continue
                rd = self.fresh("lat")
                out = os.path.join(rd, "out")
                os.makedirs(out)
                setup, timed = t.single_fn(f, out, rd)
                for c in setup:
                    st, txt = quiet(c)
                    if st != 0:
                        raise HarnessError(f"{t.label}: setup failed: {first_line(txt)}")
                r = spawn_all(timed, self.err)
                rmtree(rd)
                if r.status != 0:
                    t.lat_failed = f"exit {r.status}" + (f": {r.err}" if r.err else "")
                    self.log(f"latency: {t.label}: FAILED ({t.lat_failed})")
                    continue
                if i >= warm:
                    t.lat.append(r)
        self.log(f"latency: {self.a.latency_runs} runs per tool done")


def phi_check(outs: list[str], ids: set[str], names: set[str]) -> str:
    """Look at a few output files: original PatientID/PatientName gone?"""
    try:
        import pydicom
    except ImportError:
        return "?"
    if not outs:
        return "no output"
    dcm = [p for p in outs if p.endswith(".dcm")] or outs
    sample = dcm[:: max(1, len(dcm) // 5)][:5]
    for p in sample:
        try:
            ds = pydicom.dcmread(p, stop_before_pixels=True)
        except Exception:
            return "unreadable"
        pid = str(ds.get("PatientID", "") or "")
        pn = ds.get((0x0010, 0x0010))
        pname = pn.value.original_string if pn is not None and hasattr(pn.value, "original_string") else b""
        if pid in ids:
            return "PatientID kept!"
        if pname and pname in names:
            return "PatientName kept!"
    return "ok"


def original_phi(files: list[str]) -> tuple[set[str], set[bytes]]:
    import pydicom
    ids, names, seen = set(), set(), set()
    for p in files:
        d = os.path.dirname(os.path.dirname(os.path.dirname(p)))
        if d in seen:
            continue
        seen.add(d)
        ds = pydicom.dcmread(p, stop_before_pixels=True)
        ids.add(str(ds.PatientID))
        names.add(ds[(0x0010, 0x0010)].value.original_string)
    return ids, names


# --- reporting --------------------------------------------------------------------


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def table(headers: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    w = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]

    def fmt(cells):
        return "  ".join(c.rjust(w[i]) if i in right else c.ljust(w[i])
                         for i, c in enumerate(cells)).rstrip()

    return [fmt(headers), fmt(["-" * x for x in w]), *(fmt(r) for r in rows)]


def report(b: Bench, tools: list[Tool], lat_tools: list[Tool], files: list[str],
           in_bytes: int, info: dict) -> tuple[str, dict]:
    n = len(files)
    a = b.a
    lines = []
    lines.append(f"kakou benchmark  {info['date']}  ({'QUICK smoke test' if a.quick else 'full'})")
    lines.append(f"host: {info['cpu']}, {info['ncpu']} CPUs, {info['mem']}, kernel {info['kernel']}; "
                 f"load avg at start {info['load_start']}, at end {info['load_end']}")
    lines.append(f"data: {n} CT files, {in_bytes / 1e6:.1f} MB ({in_bytes / n / 1e6:.3f} MB a file), "
                 f"{a.data}")
    lines.append(f"outputs: {fs_of(a.work)}")
    lines.append(f"runs: {a.warmup} warm-up round + {a.rounds} interleaved round(s), medians; "
                 f"page cache warm (not dropped); fresh output folder per run, synced and deleted")
    lines.append("measured: " + ("wall/CPU/peak RSS per process by bench/rusage.c (posix_spawn + wait4)"
                                 if RUNNER else "by Python posix_spawn + wait4; no C compiler, so peak RSS "
                                 "includes the harness interpreter's (upper bound)"))
    lines.append(f"kakou: {info['kakou']}")
    lines.append(f"peers: {info['versions']}")
    lines.append("")

    cp = next((t for t in tools if t.key == "cp"), None)
    cp_wall = med([r.wall for r in cp.runs]) if cp and cp.runs else float("nan")
    rows = []
    data = {"info": info, "files": n, "bytes": in_bytes, "batch": {}, "latency": {}}
    for t in tools:
        if not t.available or not t.runs:
            rows.append([t.label, "n/a", "", "", "", "", "", "", t.why_na or "not run"])
            data["batch"][t.key] = {"label": t.label, "na": t.why_na}
            continue
        wall = med([r.wall for r in t.runs])
        user = med([r.user for r in t.runs])
        sys_ = med([r.sys for r in t.runs])
        rss = max(r.rss_kib for r in t.runs) / 1024
        spread = (max(r.wall for r in t.runs) - min(r.wall for r in t.runs)) / wall * 100 if wall else 0
        notes = [t.note] if t.note else []
        if t.out_files is not None and t.out_files < n:
            notes.append(f"wrote only {t.out_files}/{n} files!")
        if t.phi and t.phi != "ok":
            notes.append(t.phi)
        rows.append([t.label, f"{wall:.3f} ±{spread:.0f}%", f"{n / wall:.0f}",
                     f"{in_bytes / wall / 1e6:.0f}", f"{wall / cp_wall:.2f}",
                     f"{user / n * 1e3:.3f}", f"{sys_ / n * 1e3:.3f}", f"{rss:.1f}",
                     "; ".join(notes)])
        data["batch"][t.key] = {"label": t.label, "wall_s": [r.wall for r in t.runs],
                                "user_s": [r.user for r in t.runs], "sys_s": [r.sys for r in t.runs],
                                "maxrss_kib": [r.rss_kib for r in t.runs],
                                "out_files": t.out_files, "phi_check": t.phi}
    lines.append(f"Batch: de-identify all {n} files (header only)")
    lines += table(["tool", "wall s (spread)", "files/s", "MB/s", "x cp", "user ms/file",
                    "sys ms/file", "peak RSS MiB", "notes"], rows, right={1, 2, 3, 4, 5, 6, 7})
    lines.append("")

    lrows = []
    for t in lat_tools:
        if not t.available or t.lat_failed or not t.lat:
            lrows.append([t.label, "n/a", "", "", "", t.why_na or t.lat_failed or "not run"])
            data["latency"][t.key] = {"label": t.label, "na": t.why_na or t.lat_failed}
            continue
        w = sorted(r.wall * 1e3 for r in t.lat)
        p90 = w[min(len(w) - 1, int(round(0.9 * (len(w) - 1))))]
        lrows.append([t.label, f"{med(w):.2f}", f"{w[0]:.2f}", f"{p90:.2f}",
                      f"{max(r.rss_kib for r in t.lat) / 1024:.1f}", ""])
        data["latency"][t.key] = {"label": t.label, "wall_ms": w,
                                  "user_ms": [r.user * 1e3 for r in t.lat],
                                  "maxrss_kib": [r.rss_kib for r in t.lat]}
    lines.append(f"Single-file latency: one file, process start included, {a.latency_runs} runs "
                 f"(after 3 warm-up)")
    lines += table(["tool", "median ms", "min ms", "p90 ms", "peak RSS MiB", "notes"], lrows,
                   right={1, 2, 3, 4})
    lines.append("")

    # Goals.
    lines.append("kakou goals (jp-pseudonymized with store; informational, never fails the bench):")
    jp = next((t for t in tools if t.key == "kakou-jp"), None)
    jpl = next((t for t in lat_tools if t.key == "kakou-jp"), None)
    if jp is None or not jp.available or not jp.runs:
        lines.append(f"  n/a: {jp.why_na if jp else 'no row'}")
        basic = next((t for t in tools if t.key == "kakou-basic" and t.runs), None)
        basicl = next((t for t in lat_tools if t.key == "kakou-basic" and t.lat), None)
        if basic:
            wall = med([r.wall for r in basic.runs])
            user_half = med([r.user for r in basic.runs]) / n * 1e3 * (0.5e6 / (in_bytes / n))
            rss = max(r.rss_kib for r in basic.runs) / 1024
            lat = f", latency {med([r.wall * 1e3 for r in basicl.lat]):.2f} ms" if basicl else ""
            lines.append(f"  for reference, dicom-basic (no store): {wall / cp_wall:.2f}x cp -r, "
                         f"{user_half:.3f} ms user per 0.5 MB file, {rss:.1f} MiB{lat}")
    else:
        wall = med([r.wall for r in jp.runs])
        user_ms = med([r.user for r in jp.runs]) / n * 1e3
        user_half = user_ms * (0.5e6 / (in_bytes / n))
        rss = max(r.rss_kib for r in jp.runs) / 1024

        def g(ok):
            return "PASS" if ok else "MISS"

        lines.append(f"  {g(wall / cp_wall <= GOAL_RATIO_TO_CP)}  wall {wall / cp_wall:.2f}x cp -r "
                     f"(goal <= {GOAL_RATIO_TO_CP:.2f}x)")
        lines.append(f"  {g(user_half <= GOAL_USER_MS_PER_HALF_MB)}  user CPU {user_half:.3f} ms per "
                     f"0.5 MB file (goal <= {GOAL_USER_MS_PER_HALF_MB} ms)")
        lines.append(f"  {g(rss <= GOAL_RSS_MIB)}  peak RSS {rss:.1f} MiB (goal <= {GOAL_RSS_MIB:.0f} MiB)")
        if jpl and jpl.lat:
            lm = med([r.wall * 1e3 for r in jpl.lat])
            lines.append(f"  {g(lm <= GOAL_LATENCY_MS)}  single-file latency {lm:.2f} ms "
                         f"(goal <= {GOAL_LATENCY_MS:.0f} ms; dcmodify ~11 ms, gdcmanon 15-33 ms)")
        else:
            lines.append(f"  n/a  single-file latency ({jpl.lat_failed if jpl else 'no row'})")
        noclean = next((t for t in tools if t.key == "kakou-jp-noclean" and t.runs), None)
        if noclean:
            extra_ms = user_ms - med([r.user for r in noclean.runs]) / n * 1e3
            lines.append(f"  {g(extra_ms <= GOAL_CLEAN_EXTRA_MS)}  cleaning free text adds "
                         f"{extra_ms:.3f} ms user CPU per file (goal <= {GOAL_CLEAN_EXTRA_MS} ms)")
        nopix = next((t for t in tools if t.key == "kakou-jp-nopix" and t.runs), None)
        if nopix:
            np_wall = med([r.wall for r in nopix.runs])
            extra = wall / np_wall - 1
            lines.append(f"  {g(extra <= GOAL_TEXT_SEARCH_EXTRA)}  the burned-in text search adds "
                         f"{100 * extra:.1f}% wall ({np_wall:.2f} s without, {wall:.2f} s with; "
                         f"goal <= {100 * GOAL_TEXT_SEARCH_EXTRA:.0f}%)")
    lines.append("")
    lines.append("Columns: wall = median elapsed seconds (spread = (max-min)/median over the rounds);")
    lines.append("files/s and MB/s (input bytes, 1 MB = 1e6 B) from the median wall; x cp = median wall /")
    lines.append("median wall of cp -r; user/sys ms/file = median CPU seconds / files; peak RSS = largest")
    lines.append("ru_maxrss of any run (per process, from wait4). The tag-list rows (dcmodify, gdcmanon")
    lines.append("--dumb, pydicom) do the same hand-written list (bench/phi_tags.py), far less than PS3.15.")
    return "\n".join(lines) + "\n", data


# --- main ----------------------------------------------------------------------------


def machine_info() -> dict:
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for ln in f:
                if ln.startswith("model name"):
                    cpu = ln.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "?"
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            kb = int(f.readline().split()[1])
            mem = f"{kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return {"cpu": cpu, "ncpu": os.cpu_count(), "mem": mem, "kernel": platform.release()}


def binary_stamp(path: str):
    """(mtime, size) of the kakou binary: another build may replace it mid-run."""
    try:
        st = os.stat(path)
        return (st.st_mtime_ns, st.st_size)
    except OSError:
        return None


def fs_of(path: str) -> str:
    """'ext4 on /dev/vda (/work/x)': where the outputs are written."""
    best = ("", "?", "?")
    try:
        with open("/proc/mounts", encoding="utf-8") as f:
            for ln in f:
                dev, mnt, typ = ln.split()[:3]
                if (path == mnt or path.startswith(mnt.rstrip("/") + "/")) and len(mnt) >= len(best[0]):
                    best = (mnt, typ, dev)
    except OSError:
        pass
    return f"{best[1]} on {best[2]} ({path})"


def load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def versions(python: str, kakou: str) -> tuple[str, str]:
    parts = []
    for argv, name in ((["gdcmanon", "--version"], "gdcm"), (["dcmodify", "--version"], "dcmtk")):
        if shutil.which(argv[0]):
            _, txt = quiet(argv, timeout=10)
            m = re.search(r"(\d+\.\d+\.\d+)", txt)
            parts.append(f"{name} {m.group(1) if m else '?'}")
    _, txt = quiet([python, "-c", "import pydicom,sys;print(pydicom.__version__,sys.version.split()[0])"])
    parts.append(f"pydicom {first_line(txt)} (python)")
    _, txt = quiet(["cp", "--version"], timeout=10)
    parts.append(first_line(txt))
    kv = "not built"
    if kakou and os.access(kakou, os.X_OK):
        rc, txt = quiet([kakou, "--version"], timeout=10)
        kv = f"{kakou}: " + (first_line(txt) if rc == 0 and txt.strip() else "(no --version)")
    return ", ".join(parts), kv


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="input data set folder (read only)")
    ap.add_argument("--work", required=True, help="scratch folder (outputs; emptied)")
    ap.add_argument("--kakou", default="", help="path to build/kakou (n/a rows if missing)")
    ap.add_argument("--kakou-key", default="", help="existing kakou key file (else one is made)")
    ap.add_argument("--cert", default="", help="certificate for gdcmanon -e (n/a if empty)")
    ap.add_argument("--python", default="/usr/bin/python3", help="Python with pydicom")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--latency-runs", type=int, default=30)
    ap.add_argument("--only", default="", help="comma-separated row keys to run (default all)")
    ap.add_argument("--runner", default="", help="compiled bench/rusage.c (else RSS is an upper bound)")
    ap.add_argument("--quick", action="store_true", help="label the report as a smoke test")
    ap.add_argument("--results", default="", help="write the report here (and .json beside it)")
    a = ap.parse_args(argv)
    if a.rounds < 1 or a.warmup < 0 or a.latency_runs < 1:
        ap.error("--rounds and --latency-runs must be >= 1, --warmup >= 0")
    a.data = os.path.abspath(a.data)
    a.work = os.path.abspath(a.work)
    os.makedirs(a.work, exist_ok=True)

    global RUNNER
    if a.runner:
        if not os.access(a.runner, os.X_OK):
            raise HarnessError(f"--runner {a.runner} is not executable")
        RUNNER = a.runner
    b = Bench(a)
    info = machine_info()
    info["date"] = dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
    info["load_start"] = load()
    info["versions"], info["kakou"] = versions(a.python, a.kakou)

    kakou_stamp = binary_stamp(a.kakou)
    files = list_files(a.data)
    if not files:
        raise HarnessError(f"no input files in {a.data}")
    in_bytes = sum(os.path.getsize(f) for f in files)
    b.ids, b.names = original_phi(files)
    b.log(f"{len(files)} files, {in_bytes / 1e6:.1f} MB")

    tools = [cp_row(), *kakou_rows(a.kakou, files[0], a.work, a.kakou_key or None, b.log),
             gdcmanon_e_row(a.cert or None), gdcmanon_dumb_row(), dcmodify_row(),
             pydicom_row(a.python)]
    if a.only:
        keep = set(a.only.split(","))
        tools = [t for t in tools if t.key in keep]
    b.run_batch(tools, files)

    # Latency rows: the spawn floor, then every tool with a one-file command
    # (the -jN variants have none: one file gives nothing to parallelize).
    lat_tools = [true_row()] + [t for t in tools if t.single_fn is not None]
    b.run_latency(lat_tools, files[0])

    info["load_end"] = load()
    if binary_stamp(a.kakou) != kakou_stamp:
        info["kakou"] += "  WARNING: the binary changed during the run; rows may mix builds"
    text, data = report(b, tools, lat_tools, files, in_bytes, info)
    data["log"] = b.log_lines
    print()
    print(text, end="")
    if a.results:
        os.makedirs(os.path.dirname(os.path.abspath(a.results)), exist_ok=True)
        with open(a.results, "w", encoding="utf-8") as f:
            f.write(text)
        with open(os.path.splitext(a.results)[0] + ".json", "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1)
            f.write("\n")
        print(f"(written to {a.results})")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except HarnessError as exc:
        print(f"bench: harness error: {exc}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
