# SPDX-License-Identifier: GPL-2.0
# Debian's python3 and its standard library: threads, processes, files, a database. Run
# natively (chroot /debian) and contained; the outputs must be the same.
import hashlib
import json
import multiprocessing
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading

print("python", sys.version_info[:2])
print("pool", multiprocessing.Pool(2).map(abs, [-1, -2]))
with multiprocessing.Pool(3) as pool:
    print("pool squares", sorted(pool.starmap(pow, [(i, 2) for i in range(6)])))
results = []
lock = threading.Lock()

def work(n):
    with lock:
        results.append(n * n)

threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("threads", sorted(results))
done = subprocess.run(["/bin/sh", "-c", "echo out; echo err >&2; exit 3"], capture_output=True)
print("subprocess", done.returncode, done.stdout, done.stderr)
print("check_output", subprocess.check_output(["printf", "%s-%s", "a", "b"]))
try:
    subprocess.run(["/nonexistent"])
except FileNotFoundError as error:
    print("missing program", error.errno)
print("json", json.dumps({"a": [1, 2, {"b": None}]}, sort_keys=True))
print("sha256", hashlib.sha256(b"rvisor").hexdigest())
with tempfile.TemporaryDirectory() as work:
    db = sqlite3.connect(os.path.join(work, "t.db"))
    print("journal", db.execute("pragma journal_mode=wal").fetchone())
    db.execute("create table t(x integer)")
    with db:
        db.executemany("insert into t values (?)", [(i,) for i in range(1000)])
    print("sqlite", db.execute("select count(*), sum(x) from t").fetchone())
    db.close()
    path = os.path.join(work, "f")
    with open(path, "w") as f:
        f.write("hello\n")
    os.rename(path, path + ".2")
    print("files", sorted(os.listdir(work)), os.stat(path + ".2").st_size)
    path += ".2"
    os.setxattr(path, "user.rvisor", b"value")
    print("xattr", os.getxattr(path, "user.rvisor"), sorted(os.listxattr(path)))
    os.setxattr(path, "user.rvisor", b"other", os.XATTR_REPLACE)
    with open(path) as f:
        print("fgetxattr", os.getxattr(f.fileno(), "user.rvisor"))
    for attempt in (
        lambda: os.setxattr(path, "user.rvisor", b"x", os.XATTR_CREATE),
        lambda: os.getxattr(path, "user.missing"),
        lambda: os.setxattr(path, "user." + "n" * 300, b"x"),
        lambda: os.getxattr(work + "/missing", "user.rvisor"),
    ):
        try:
            attempt()
        except OSError as error:
            print("xattr error", error.errno)
    os.removexattr(path, "user.rvisor")
    print("removed", sorted(os.listxattr(path)))
print("affinity", sorted(os.sched_getaffinity(0)), "cpus", os.cpu_count())
os.sched_setaffinity(0, {0})
print("pinned", sorted(os.sched_getaffinity(0)))
os.sched_setaffinity(0, range(os.cpu_count()))
try:
    os.sched_getaffinity(999999)
except ProcessLookupError as error:
    print("affinity of a missing pid", error.errno)
pid = os.fork()
if pid == 0:
    os._exit(7)
print("fork", os.waitpid(pid, 0)[1] >> 8)
print("python: done")
