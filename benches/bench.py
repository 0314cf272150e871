#!/usr/bin/env python3
"""sitevault benchmarks: each one measures sitevault and its peer in the same run and
prints ratios. Speed targets live here, never in tests.

    python3 benches/bench.py [build|publish|rollback|serve|retention|gate|cssscale|all]

Needs (installed on demand when missing, from Debian/npm/PyPI): minify (tdewolff),
esbuild, awscli + moto, nginx, wrk, workerd (edge/node_modules). Work files go to
benches/work/ (ignored by git). Results are also written to benches/results/*.json.
"""
import json, os, shutil, signal, socket, statistics, subprocess, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "benches" / "work"
RESULTS = ROOT / "benches" / "results"
SV = ROOT / "target" / "release" / "sitevault"
VENV = WORK / "venv"
PACKAGES = ["bootstrap@5.3.3", "three@0.170.0", "lodash@4.17.21", "@fortawesome/fontawesome-free@6.7.2",
            "rxjs@7.8.1", "jquery@3.7.1"]
TYPES = [".html", ".css", ".js", ".json", ".svg"]


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=isinstance(cmd, str), check=True, **kw)


def timed(cmd, env=None, cwd=None, quiet=True, check=True):
    t = time.perf_counter()
    subprocess.run(cmd, check=check, env=env, cwd=cwd,
                   stdout=subprocess.DEVNULL if quiet else None, stderr=subprocess.DEVNULL if quiet else None)
    return time.perf_counter() - t


def median_time(cmd, n=3, before=None, **kw):
    ts = []
    for _ in range(n):
        if before:
            before()
        ts.append(timed(cmd, **kw))
    return statistics.median(ts)


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p


def ensure_tools():
    WORK.mkdir(parents=True, exist_ok=True)
    if not SV.exists():
        sh(["cargo", "build", "--release"], cwd=ROOT)
    if not shutil.which("rclone"):
        sh("apt-get install -y rclone >/dev/null 2>&1")
    missing = [t for t in ["minify", "wrk", "nginx"]
               if not shutil.which(t) and not (t == "nginx" and Path("/usr/sbin/nginx").exists())]
    if missing:
        sh("apt-get install -y minify wrk nginx-light >/dev/null 2>&1 || (apt-get update >/dev/null && apt-get install -y minify wrk nginx-light >/dev/null)")
    if not (VENV / "bin" / "moto_server").exists() or not (VENV / "bin" / "aws").exists():
        sh([sys.executable, "-m", "venv", str(VENV)])
        sh([str(VENV / "bin" / "pip"), "install", "-q", "moto[s3]==5.2.5", "flask>=3,<4", "flask-cors>=6,<7", "awscli"])
    if not (WORK / "node_modules" / ".bin" / "esbuild").exists():
        sh("npm install --no-audit --no-fund --silent --prefix . esbuild@0.24.0", cwd=WORK)
    if not (ROOT / "edge" / "node_modules" / ".bin" / "workerd").exists():
        sh("npm ci --no-audit --no-fund --silent", cwd=ROOT / "edge")


def corpus():
    """Pinned npm packages, unpacked: the bench corpus."""
    c = WORK / "corpus"
    if (c / ".done").exists():
        return c
    shutil.rmtree(c, ignore_errors=True)
    c.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as tmp:
        for p in PACKAGES:
            sh(["npm", "pack", p, "--silent"], cwd=tmp, stdout=subprocess.DEVNULL)
        for tgz in Path(tmp).glob("*.tgz"):
            d = c / tgz.name[:-4]
            d.mkdir()
            sh(["tar", "xzf", str(tgz), "-C", str(d)])
    (c / ".done").write_text("ok")
    return c


def tree_stats(d, strip_hash=False):
    by = {t: 0 for t in TYPES}
    files = total = 0
    for p in Path(d).rglob("*"):
        if p.is_file() and ".sitevault" not in p.parts:
            files += 1
            size = p.stat().st_size
            total += size
            if p.suffix in by:
                by[p.suffix] += size
    return files, total, by


def table(title, header, rows):
    print(f"\n### {title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for r in rows:
        print("| " + " | ".join(str(x) for x in r) + " |")


def save(name, data):
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(data, indent=1))


# ----------------------------------------------------------------------------- build

def bench_build():
    src = corpus()
    files, size, by_in = tree_stats(src)
    print(f"corpus: {files} files, {size/1e6:.1f} MB ({', '.join(PACKAGES)})")
    out = WORK / "out"
    shutil.rmtree(out, ignore_errors=True); out.mkdir()
    cache = WORK / "cache"
    cfg = WORK / "build.toml"
    cfg.write_text(f'[build]\ncache_dir = "{cache}"\n')
    svcmd = [str(SV), "--config", str(cfg), "build", str(src), "-o", str(out / "sitevault"), "-q", "--keep-going"]
    # minify exits 1 when some files do not parse (it still writes the rest).
    mcmd = ["minify", "-r", "-o", str(out / "minify") + "/", str(src) + "/"]
    one = ["taskset", "-c", "0"] + svcmd + ["--no-cache"]
    # esbuild: JS and CSS only (it does not minify HTML/SVG/JSON); files it cannot parse are dropped.
    esb = str(WORK / "node_modules" / ".bin" / "esbuild")
    inputs = [str(p) for p in src.rglob("*") if p.suffix in (".js", ".css") and p.is_file()]
    bad = set()
    for _ in range(5):
        r = subprocess.run([esb, *[i for i in inputs if i not in bad], "--minify", "--log-level=error",
                            f"--outdir={out/'esbuild'}", f"--outbase={src}", "--allow-overwrite", "--log-limit=0"],
                           capture_output=True, text=True)
        if r.returncode == 0:
            break
        for line in r.stderr.splitlines():
            for i in inputs:
                if line.strip().startswith(i.replace(str(src) + "/", "")) or i in line:
                    bad.add(i)
    esb_inputs = [i for i in inputs if i not in bad]
    ecmd = [esb, *esb_inputs, "--minify", "--log-level=silent", f"--outdir={out/'esbuild'}", f"--outbase={src}",
            "--allow-overwrite"]
    # This machine's speed varies from run to run: interleave the tools so each round sees the
    # same conditions, and keep each tool's best round.
    runs = {"cold": [], "warm": [], "one": [], "minify": [], "esbuild": []}
    for _ in range(5):
        shutil.rmtree(out / "minify", ignore_errors=True)
        runs["minify"].append(timed(mcmd, check=False))
        shutil.rmtree(cache, ignore_errors=True)
        runs["cold"].append(timed(svcmd))
        runs["warm"].append(timed(svcmd))
        runs["esbuild"].append(timed(ecmd))
    runs["one"].append(timed(one))
    cold, warm, t1, tmin, tesb = (min(runs[k]) for k in ("cold", "warm", "one", "minify", "esbuild"))
    spread = lambda k: f"{min(runs[k]):.2f}–{max(runs[k]):.2f} s"
    rows = [
        ["sitevault build, cold (all types, fingerprinted)", f"{cold:.2f} s", spread("cold"), f"{cold/tmin:.2f}x"],
        ["sitevault build, warm (no change)", f"{warm:.2f} s", spread("warm"), f"{warm/tmin:.2f}x"],
        ["sitevault build, cold, 1 core", f"{t1:.2f} s", "", f"{t1/tmin:.2f}x"],
        ["tdewolff minify -r (all types)", f"{tmin:.2f} s", spread("minify"), "1.00x"],
        [f"esbuild --minify (JS+CSS only, {len(esb_inputs)} files)", f"{tesb:.2f} s", spread("esbuild"), f"{tesb/tmin:.2f}x"],
    ]
    table("Build: time (best of 5 interleaved rounds; ratio of bests vs tdewolff minify -r)",
          ["tool", "best", "range", "ratio"], rows)
    _, _, by_sv = tree_stats(out / "sitevault")
    _, _, by_min = tree_stats(out / "minify")
    _, _, by_esb = tree_stats(out / "esbuild")
    trow = []
    for t in TYPES:
        peers = [v for v in (by_min[t], by_esb[t] if t in (".js", ".css") else 0) if v]
        best = min(peers) if peers else 0
        ratio = f"{by_sv[t]/best:.3f}" if best else "-"
        trow.append([t, f"{by_in[t]/1e6:.2f} MB", f"{by_sv[t]/1e6:.2f} MB", f"{by_min[t]/1e6:.2f} MB",
                     f"{by_esb[t]/1e6:.2f} MB" if t in (".js", ".css") else "-", ratio])
    table("Build: output bytes per type (ratio = sitevault / smallest peer)",
          ["type", "input", "sitevault", "minify", "esbuild", "ratio"], trow)
    save("build", {"runs": runs, "cold_s": cold, "warm_s": warm, "one_core_s": t1, "minify_s": tmin, "esbuild_s": tesb,
                   "bytes": {"in": by_in, "sitevault": by_sv, "minify": by_min, "esbuild": by_esb}})


# ----------------------------------------------------------------------------- moto helpers

class Moto:
    def __init__(self):
        self.port = free_port()
        self.log = WORK / f"moto-{self.port}.log"
        self.proc = subprocess.Popen([str(VENV / "bin" / "moto_server"), "-H", "127.0.0.1", "-p", str(self.port)],
                                     stdout=subprocess.DEVNULL, stderr=open(self.log, "w"))
        self.endpoint = f"http://127.0.0.1:{self.port}"
        for _ in range(200):
            try:
                sh(["curl", "-fsS", self.endpoint + "/moto-api/"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                break
            except subprocess.CalledProcessError:
                time.sleep(0.1)

    def bucket(self, name):
        sh(["curl", "-fsS", "-X", "PUT", f"{self.endpoint}/{name}"], stdout=subprocess.DEVNULL)
        return name

    def requests(self):
        return sum(1 for l in open(self.log) if '" 20' in l or '" 30' in l or '" 40' in l or '" 41' in l)

    def stop(self):
        self.proc.terminate(); self.proc.wait()


def aws_env():
    e = dict(os.environ)
    e.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_REGION="us-east-1",
             AWS_DEFAULT_REGION="us-east-1")
    return e


def s3_project(moto, bucket, extra=""):
    d = Path(tempfile.mkdtemp(dir=WORK))
    (d / "store.toml").write_text(f'[store]\nurl = "s3://{bucket}/site"\nendpoint = "{moto.endpoint}"\n'
                                  f'region = "us-east-1"\nallow_http = true\n{extra}')
    return d


def counted(moto, fn):
    before = moto.requests()
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t, moto.requests() - before


# ----------------------------------------------------------------------------- publish

def built_corpus():
    out = WORK / "dist-corpus"
    sh([str(SV), "build", str(corpus()), "-o", str(out), "-q", "--keep-going", "--no-cache"])
    return out


def bench_publish():
    dist = built_corpus()
    moto = Moto()
    try:
        env = aws_env()
        proj = s3_project(moto, moto.bucket("sv-publish"))
        moto.bucket("aws-sync")
        aws = [str(VENV / "bin" / "aws"), "--endpoint-url", moto.endpoint, "s3", "sync", "--only-show-errors"]
        sv_first, sv_first_req = counted(moto, lambda: sh([str(SV), "publish", str(dist), "--version", "v1", "-q"], cwd=proj, env=env))
        aws_first, aws_first_req = counted(moto, lambda: sh(aws + [str(dist), "s3://aws-sync/site/"], env=env))
        # One file changed: rebuild, then both upload the new dist.
        victim = next(p for p in sorted(corpus().rglob("*.svg")))
        orig = victim.read_bytes()
        victim.write_bytes(orig.replace(b"</svg>", b"<!-- changed --></svg>"))
        try:
            sh([str(SV), "build", str(corpus()), "-o", str(dist), "-q", "--keep-going", "--no-cache"])
        finally:
            victim.write_bytes(orig)
        sv_one, sv_one_req = counted(moto, lambda: sh([str(SV), "publish", str(dist), "--version", "v2", "-q"], cwd=proj, env=env))
        # aws s3 sync compares size and mtime: a rebuild rewrites every file, so it re-uploads all.
        # --size-only is its best case (and misses same-size edits).
        moto.bucket("aws-sync-size")
        sh(aws + [str(dist), "s3://aws-sync-size/site/"], env=env)
        victim.write_bytes(orig.replace(b"</svg>", b"<!-- changed again --></svg>"))
        try:
            sh([str(SV), "build", str(corpus()), "-o", str(dist), "-q", "--keep-going", "--no-cache"])
        finally:
            victim.write_bytes(orig)
        sv_two, sv_two_req = counted(moto, lambda: sh([str(SV), "publish", str(dist), "--version", "v3", "-q"], cwd=proj, env=env))
        aws_one, aws_one_req = counted(moto, lambda: sh(aws + [str(dist), "s3://aws-sync/site/"], env=env))
        aws_size, aws_size_req = counted(moto, lambda: sh(aws + ["--size-only", str(dist), "s3://aws-sync-size/site/"], env=env))
        # One-file publishes, interleaved with rclone sync --checksum (MD5 of every local
        # file against the listing) on the same kind of change, 5 rounds each.
        moto.bucket("rclone-sync")
        renv = dict(env, RCLONE_CONFIG_MOTO_TYPE="s3", RCLONE_CONFIG_MOTO_PROVIDER="Other",
                    RCLONE_CONFIG_MOTO_ENDPOINT=moto.endpoint, RCLONE_CONFIG_MOTO_ACCESS_KEY_ID="testing",
                    RCLONE_CONFIG_MOTO_SECRET_ACCESS_KEY="testing", RCLONE_CONFIG_MOTO_REGION="us-east-1")
        renv.pop("AWS_CA_BUNDLE", None)  # rclone refuses a custom CA bundle on plain http
        rclone = ["rclone", "sync", "--checksum", "-q", str(dist), "moto:rclone-sync/site"]
        sh(rclone, env=renv)
        one_sv, one_rc = [], []
        for i in range(5):
            victim.write_bytes(orig.replace(b"</svg>", f"<!-- round {i} --></svg>".encode()))
            try:
                sh([str(SV), "build", str(corpus()), "-o", str(dist), "-q", "--keep-going"])
            finally:
                victim.write_bytes(orig)
            one_sv.append(counted(moto, lambda: sh([str(SV), "publish", str(dist), "--version", f"r{i}", "-q"], cwd=proj, env=env)))
            one_rc.append(counted(moto, lambda: sh(rclone, env=renv)))
    finally:
        moto.stop()
    files, size, _ = tree_stats(dist)
    rows = [
        ["first publish", f"{sv_first:.2f} s / {sv_first_req}", f"{aws_first:.2f} s / {aws_first_req}",
         f"{aws_first/sv_first:.1f}x", f"{aws_first_req/max(sv_first_req,1):.2f}x"],
        ["one file changed, rebuilt (aws: size+mtime)", f"{sv_two:.2f} s / {sv_two_req}", f"{aws_one:.2f} s / {aws_one_req}",
         f"{aws_one/sv_two:.1f}x", f"{aws_one_req/max(sv_two_req,1):.1f}x"],
        ["one file changed, rebuilt (aws --size-only)", f"{sv_two:.2f} s / {sv_two_req}", f"{aws_size:.2f} s / {aws_size_req}",
         f"{aws_size/sv_two:.1f}x", f"{aws_size_req/max(sv_two_req,1):.1f}x"],
    ]
    table(f"Publish to moto ({files} files, {size/1e6:.1f} MB): time / requests (speed-up = aws ÷ sitevault)",
          ["run", "sitevault", "aws s3 sync", "time speed-up", "request ratio"], rows)
    sv_t = [t for t, _ in one_sv]
    rc_t = [t for t, _ in one_rc]
    ratios = [r / s for s, r in zip(sv_t, rc_t)]
    table("One file changed (5 interleaved rounds): sitevault publish vs rclone sync --checksum on moto",
          ["tool", "time (best / median / worst)", "requests (median)", "speed-up"],
          [["sitevault publish", f"{min(sv_t)*1000:.0f} / {statistics.median(sv_t)*1000:.0f} / {max(sv_t)*1000:.0f} ms",
            f"{statistics.median([r for _, r in one_sv]):.0f}", f"{min(ratios):.1f}–{max(ratios):.1f}x (median {statistics.median(ratios):.1f}x)"],
           ["rclone sync --checksum", f"{min(rc_t)*1000:.0f} / {statistics.median(rc_t)*1000:.0f} / {max(rc_t)*1000:.0f} ms",
            f"{statistics.median([r for _, r in one_rc]):.0f}", "1.0x"]])
    save("publish", {"first": [sv_first, sv_first_req, aws_first, aws_first_req],
                     "one_file": [sv_two, sv_two_req, aws_one, aws_one_req],
                     "one_file_size_only": [sv_two, sv_two_req, aws_size, aws_size_req],
                     "one_file_rounds": {"sitevault": one_sv, "rclone": one_rc}})


# ----------------------------------------------------------------------------- rollback

def v1_then_v2_stable(proj, env):
    """The example site built and published as v1 (stable on production), then changed
    and published as v2, made stable too: two rollback targets."""
    shutil.copytree(ROOT / "fixtures" / "site", proj / "site")
    sh([str(SV), "build", "site", "-o", "dist", "-q"], cwd=proj, env=env)
    sh([str(SV), "publish", "dist", "--version", "v1", "--channel", "production", "-q"], cwd=proj, env=env)
    idx = proj / "site" / "index.html"
    idx.write_text(idx.read_text().replace("Fresh beans", "Fresher beans"))
    sh([str(SV), "build", "site", "-o", "dist", "-q"], cwd=proj, env=env)
    sh([str(SV), "publish", "dist", "--version", "v2", "-q"], cwd=proj, env=env)
    sh([str(SV), "rollout", "production", "v2", "--percent", "100", "-q"], cwd=proj, env=env)


def bench_rollback():
    res = {}
    moto = Moto()
    try:
        env = aws_env()
        for kind in ["file", "s3"]:
            if kind == "file":
                proj = Path(tempfile.mkdtemp(dir=WORK))
            else:
                proj = s3_project(moto, moto.bucket("sv-rollback"))
            v1_then_v2_stable(proj, env)
            ts = []
            for i in range(30):
                target = "v1" if i % 2 == 0 else "v2"
                ts.append(timed([str(SV), "rollback", "production", "--to", target, "-q"], cwd=proj, env=env))
            res[kind] = statistics.median(ts)
    finally:
        moto.stop()
    table("Rollback: wall time of `sitevault rollback` as a process (median of 30)",
          ["store", "sitevault", "target", "original design"],
          [["file://", f"{res['file']*1000:.0f} ms", "≤ 100 ms", "< 2 minutes"],
           ["S3 (moto)", f"{res['s3']*1000:.0f} ms", "≤ 300 ms", "< 2 minutes"]])
    save("rollback", res)


# ----------------------------------------------------------------------------- regions

def bench_regions():
    """Rollback across 3 regions (3 moto servers), against the same rollback run one
    region after another (what a script looping over stores does), interleaved; then
    one region frozen (SIGSTOP) with `[store] timeout = "2s"`: when the reachable
    regions are rolled back, and when the command ends."""
    motos = [Moto() for _ in range(3)]
    names = ["eu", "us", "ap"]
    try:
        env = aws_env()
        proj = Path(tempfile.mkdtemp(dir=WORK))
        toml = '[store]\ntimeout = "2s"\n'
        for n, m in zip(names, motos):
            b = m.bucket(f"sv-region-{n}")
            toml += (f'[regions.{n}]\nurl = "s3://{b}/site"\nendpoint = "{m.endpoint}"\n'
                     f'region = "us-east-1"\nallow_http = true\n')
        (proj / "store.toml").write_text(toml)
        v1_then_v2_stable(proj, env)
        together, one_by_one = [], []
        for i in range(15):
            target = "v1" if i % 2 == 0 else "v2"
            together.append(timed([str(SV), "rollback", "production", "--to", target, "-q"], cwd=proj, env=env))
            target = "v2" if target == "v1" else "v1"
            t = 0.0
            for n in names:
                t += timed([str(SV), "rollback", "production", "--to", target, "-q", "--region", n], cwd=proj, env=env)
            one_by_one.append(t)
        # One region frozen: the others are rolled back at once; the command ends when
        # the frozen one's requests time out (timeout + retries).
        os.kill(motos[2].proc.pid, signal.SIGSTOP)
        frozen = []
        try:
            for i in range(3):
                target = "v1" if i % 2 == 0 else "v2"
                t = time.perf_counter()
                r = subprocess.run([str(SV), "rollback", "production", "--to", target, "--json"], cwd=proj, env=env,
                                   capture_output=True, text=True)
                total = time.perf_counter() - t
                doc = json.loads(r.stdout)
                reach = max(doc["regions"][n]["elapsed_ms"] for n in names[:2])
                frozen.append((reach / 1000, total, r.returncode))
        finally:
            os.kill(motos[2].proc.pid, signal.SIGCONT)
        t = time.perf_counter()
        sh([str(SV), "sync", "production", "-q"], cwd=proj, env=env)
        sync_s = time.perf_counter() - t
    finally:
        for m in motos:
            m.stop()
    ms = lambda v: f"{min(v)*1000:.0f} / {statistics.median(v)*1000:.0f} / {max(v)*1000:.0f} ms"
    ratios = [b / a for a, b in zip(together, one_by_one)]
    table("Rollback across 3 regions (3 moto servers, 15 interleaved rounds): best / median / worst",
          ["how", "wall time", "speed-up", "target"],
          [["sitevault rollback (every region at once)", ms(together),
            f"{min(ratios):.1f}–{max(ratios):.1f}x (median {statistics.median(ratios):.1f}x)", "≤ 300 ms"],
           ["the same, one `--region` at a time", ms(one_by_one), "1.0x", "-"]])
    table("One region of 3 frozen (SIGSTOP), [store] timeout = 2s",
          ["round", "reachable regions rolled back", "command ends", "exit code"],
          [[str(i + 1), f"{a*1000:.0f} ms", f"{b:.1f} s", str(c)] for i, (a, b, c) in enumerate(frozen)]
          + [["sync after it is back", "-", f"{sync_s:.2f} s", "0"]])
    save("regions", {"together": together, "one_by_one": one_by_one, "frozen": frozen, "sync_s": sync_s})


# ----------------------------------------------------------------------------- serve

def wrk(url, secs=5, headers=()):
    args = ["wrk", "-t2", "-c32", f"-d{secs}s", "--latency"]
    for h in headers:
        args += ["-H", h]
    out = subprocess.run(args + [url], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        if line.startswith("Requests/sec:"):
            return float(line.split()[1])
    return 0.0


def wait_port(port, proc=None):
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"port {port} did not open")


def nginx(root, port):
    conf = Path(tempfile.mkdtemp(dir=WORK)) / "nginx.conf"
    conf.write_text(f"""worker_processes 2; daemon off; pid {conf.parent}/nginx.pid; error_log {conf.parent}/error.log;
events {{ worker_connections 1024; }}
http {{ access_log off; sendfile on; tcp_nopush on; keepalive_requests 100000;
  types {{ text/html html; text/javascript js; }}
  server {{ listen 127.0.0.1:{port}; root {root}; location / {{ try_files $uri $uri/index.html =404; }} }} }}
""")
    p = subprocess.Popen(["nginx", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port)
    return p


def bench_serve():
    proj = Path(tempfile.mkdtemp(dir=WORK))
    site = proj / "site"
    site.mkdir()
    (site / "index.html").write_text("<!doctype html><title>bench</title>" +
                                      "".join(f"<p>paragraph {i} of a small page, with some text.</p>\n" for i in range(180)) +
                                      '<script src="asset.js"></script>')
    (site / "asset.js").write_bytes(b"/*! keep */" + os.urandom(50_000).hex().encode()[:100_000])
    (site / "asset.js").write_text("/*! bench asset */\nvar data = " + json.dumps(os.urandom(60_000).hex()[:100_000]) + ";\n")
    sh([str(SV), "build", "site", "-o", "dist", "-q"], cwd=proj)
    sh([str(SV), "publish", "dist", "--version", "v1", "--channel", "production", "-q"], cwd=proj)
    sh([str(SV), "pull", "v1", "-o", "plain", "-q"], cwd=proj)
    m = json.loads((proj / "dist" / ".sitevault" / "manifest.json").read_text())
    asset = next(k for k in m["files"] if k.startswith("/asset."))
    page_size, asset_size = m["files"]["/index.html"]["size"], m["files"][asset]["size"]
    res = {}
    sp = free_port()
    svp = subprocess.Popen([str(SV), "serve", "--channel", "production", "--listen", f"127.0.0.1:{sp}", "-q"], cwd=proj)
    ng_port = free_port()
    ng = nginx(proj / "plain", ng_port)
    origin_port = free_port()
    origin = nginx(proj / ".sitevault" / "store", origin_port)
    wd_port = free_port()
    wd_dir = Path(tempfile.mkdtemp(dir=WORK))
    shutil.copy(ROOT / "edge" / "worker.js", wd_dir / "worker.js")
    shutil.copy(ROOT / "edge" / "config.capnp", wd_dir / "config.capnp")
    env = dict(os.environ, SV_ORIGIN=f"http://127.0.0.1:{origin_port}", SV_CHANNEL="production", SV_TTL_MS="5000")
    wd = subprocess.Popen([str(ROOT / "edge" / "node_modules" / ".bin" / "workerd"), "serve", "config.capnp", "--experimental",
                           "--socket-addr", f"http=127.0.0.1:{wd_port}"], cwd=wd_dir, env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(sp); wait_port(wd_port)
        cookie = ["Cookie: sv_uid=bench-user"]
        for name, path in [("page", "/index.html"), ("asset", asset)]:
            wrk(f"http://127.0.0.1:{sp}{path}", 1, cookie)  # warm caches
            wrk(f"http://127.0.0.1:{wd_port}{path}", 1, cookie)
            res[name] = {
                "sitevault": wrk(f"http://127.0.0.1:{sp}{path}", 5, cookie),
                "nginx": wrk(f"http://127.0.0.1:{ng_port}{path}", 5),
                "workerd": wrk(f"http://127.0.0.1:{wd_port}{path}", 5, cookie),
            }
    finally:
        for p in (svp, ng, origin, wd):
            p.send_signal(signal.SIGTERM); p.wait()
    rows = []
    for name, size in [("page", page_size), ("asset", asset_size)]:
        r = res[name]
        rows.append([f"{name} ({size/1000:.0f} KB)", f"{r['sitevault']:,.0f}", f"{r['nginx']:,.0f}",
                     f"{r['sitevault']/r['nginx']:.2f}x", f"{r['workerd']:,.0f}"])
    table("Serve: requests/s, wrk -t2 -c32 keep-alive, loopback (routing on for sitevault and the worker)",
          ["file", "sitevault serve", "nginx (plain folder)", "ratio", "worker in workerd (nginx origin)"], rows)
    save("serve", res)


# ----------------------------------------------------------------------------- retention

def bench_retention():
    dist = built_corpus()
    moto = Moto()
    try:
        env = aws_env()
        hot, cold = moto.bucket("sv-hot"), moto.bucket("sv-cold")
        moto.bucket("aws-copy")
        later = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 40 * 86400))
        earlier = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60 * 86400))
        proj = s3_project(moto, hot, f'[cold]\nurl = "s3://{cold}/packs-root"\n[retention]\nkeep_latest = 0\n')
        sh([str(SV), "publish", str(dist), "--version", "v1", "-q"], cwd=proj, env=dict(env, SITEVAULT_NOW=earlier))
        files, size, _ = tree_stats(dist)
        aws = [str(VENV / "bin" / "aws"), "--endpoint-url", moto.endpoint, "s3", "cp", "--recursive", "--only-show-errors"]
        t_aws = timed(aws + [f"s3://{hot}/site/blobs/", "s3://aws-copy/blobs/"], env=env)
        t_arch = timed([str(SV), "archive", "-q"], cwd=proj, env=dict(env, SITEVAULT_NOW=later))
        t_rest = timed([str(SV), "restore", "v1", "-q"], cwd=proj, env=env)
        # Archive it again, then ops roll back to it: restore + manifest flip in one command.
        sh([str(SV), "archive", "-q"], cwd=proj, env=dict(env, SITEVAULT_NOW=later))
        t_rr = timed([str(SV), "rollback", "production", "--to", "v1", "-q"], cwd=proj, env=env)
    finally:
        moto.stop()
    mb = size / 1e6
    rows = [
        ["archive (read blobs, write + verify one pack, delete hot)", f"{t_arch:.2f} s", f"{mb/t_arch:.1f} MB/s", f"{t_aws/t_arch:.2f}x"],
        ["restore (read pack, verify, upload blobs create-only)", f"{t_rest:.2f} s", f"{mb/t_rest:.1f} MB/s", f"{t_aws/t_rest:.2f}x"],
        ["aws s3 cp --recursive (same blobs, bucket to bucket)", f"{t_aws:.2f} s", f"{mb/t_aws:.1f} MB/s", "1.00x"],
        ["rollback to an archived version (restore + flip)", f"{t_rr:.2f} s", "", ""],
    ]
    table(f"Retention on moto: one version of the bench corpus ({files} files, {mb:.1f} MB); speed-up = aws ÷ sitevault",
          ["operation", "time", "throughput", "speed-up"], rows)
    save("retention", {"archive_s": t_arch, "restore_s": t_rest, "aws_cp_s": t_aws, "restore_rollback_s": t_rr, "mb": mb})


# ----------------------------------------------------------------------------- gate

def start_serve_json(proj, extra):
    p = subprocess.Popen([str(SV), "serve", "--channel", "production", "--listen", "127.0.0.1:0",
                          "--metrics-listen", "127.0.0.1:0", "--ttl", "200ms", "--json"] + extra,
                         cwd=proj, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    info = json.loads(p.stdout.readline())
    return p, info["listening"], info["metrics"]


def prometheus(target, scrape="1s"):
    d = Path(tempfile.mkdtemp(dir=WORK))
    port = free_port()
    (d / "prom.yml").write_text(f"""global: {{ scrape_interval: {scrape}, evaluation_interval: {scrape} }}
scrape_configs:
  - job_name: sitevault
    static_configs: [{{ targets: ["{target}"] }}]
""")
    p = subprocess.Popen(["prometheus", f"--config.file={d}/prom.yml", f"--storage.tsdb.path={d}/data",
                          f"--web.listen-address=127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port)
    return p, f"http://127.0.0.1:{port}"


def bench_gate():
    """Time from a faulty canary's first request to its rollback record, and the requests
    the gate sends its source per decision, for both sources. Load: wrk without cookies,
    so every request is a new visitor routed by the canary share (50 %)."""
    if not shutil.which("prometheus"):
        sh("apt-get install -y --no-install-recommends prometheus >/dev/null 2>&1")
    site = ROOT / "fixtures" / "site"
    rows, res = [], {}
    for source in ["metrics", "prometheus"]:
        times, per = [], []
        for _ in range(3):
            proj = Path(tempfile.mkdtemp(dir=WORK))
            shutil.copytree(site, proj / "site")
            sh([str(SV), "build", "site", "-o", "dist", "-q"], cwd=proj)
            sh([str(SV), "publish", "dist", "--version", "v1", "--channel", "production", "-q"], cwd=proj)
            idx = proj / "site" / "index.html"
            idx.write_text(idx.read_text().replace("Fresh beans", "Fresher beans"))
            sh([str(SV), "build", "site", "-o", "dist", "-q"], cwd=proj)
            sh([str(SV), "publish", "dist", "--version", "v2", "-q"], cwd=proj)
            serve, site_url, metrics = start_serve_json(proj, ["--fault", "v2=error:0.05"])
            procs = [serve]
            try:
                if source == "metrics":
                    src = f'metrics = ["{metrics}"]'
                else:
                    prom, url = prometheus(metrics.removeprefix("http://").removesuffix("/metrics"))
                    procs.append(prom)
                    src = f'prometheus = "{url}"'
                (proj / "store.toml").write_text(f"""[channels.production]
stages = [50, 100]
bake = "10m"

[health]
{src}
interval = "1s"
window = "10s"
min_requests = 200
""")
                load = subprocess.Popen(["wrk", "-t1", "-c4", "-d60s", site_url + "/"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                procs.append(load)
                time.sleep(1 if source == "metrics" else 3)
                t = time.perf_counter()
                out = subprocess.run([str(SV), "rollout", "production", "v2", "--auto", "--json"], cwd=proj,
                                     capture_output=True, text=True)
                times.append(time.perf_counter() - t)
                r = json.loads(out.stdout)
                assert out.returncode == 6, out.stdout + out.stderr
                per.append((r["source_requests"], r["verdicts"]))
            finally:
                for p in procs:
                    p.terminate()
                    p.wait()
        res[source] = {"fault_to_rollback_s": times, "requests_per_decision": per}
        reqs = sum(p[0] for p in per)
        verdicts = sum(p[1] for p in per)
        rows.append([source, f"{min(times):.1f}–{max(times):.1f} s (median {statistics.median(times):.1f})",
                     f"{reqs} requests for {verdicts} verdicts ({reqs / max(verdicts, 1):.1f} each)"])
    table("Gate: a canary at 50 % with 5 % injected errors (interval 1 s, window 10 s, failures 2); 3 rounds",
          ["source", "`rollout --auto` start (= first faulty request) → rollback written, exit 6", "requests sent to the source"], rows)
    save("gate", res)


# ----------------------------------------------------------------------------- css scaling

def bench_cssscale():
    """Build time of one stylesheet of N small rules sharing their declarations, N
    doubling: a linear build doubles its time (lightningcss alone is quadratic here)."""
    rows, res = [], {}
    for n in [37_500, 75_000, 150_000, 300_000, 600_000]:
        proj = Path(tempfile.mkdtemp(dir=WORK))
        (proj / "site").mkdir()
        with open(proj / "site" / "big.css", "w") as f:
            for i in range(n):
                f.write(f".r{i} {{ color: red; margin: 0 auto; }}\n")
        mb = (proj / "site" / "big.css").stat().st_size / 1e6
        ts = [timed([str(SV), "build", "site", "-o", "dist", "-q", "--no-cache"], cwd=proj) for _ in range(3)]
        res[n] = ts
        rows.append([f"{n:,}", f"{mb:.1f} MB", f"{min(ts):.2f} s", f"{statistics.median(ts):.2f} s"])
    for i in range(1, len(rows)):
        rows[i].append(f"{min(res[list(res)[i]]) / min(res[list(res)[i - 1]]):.2f}x")
    rows[0].append("-")
    table("CSS: one stylesheet of N mergeable rules (3 rounds)", ["rules", "size", "best", "median", "best vs half the rules"], rows)
    save("cssscale", res)


def main():
    which = sys.argv[1] if len(sys.argv) > 1 else "all"
    ensure_tools()
    benches = {"build": bench_build, "publish": bench_publish, "rollback": bench_rollback,
               "serve": bench_serve, "retention": bench_retention, "gate": bench_gate,
               "cssscale": bench_cssscale, "regions": bench_regions}
    for name, fn in benches.items():
        if which in (name, "all"):
            fn()


if __name__ == "__main__":
    main()
