#!/usr/bin/env python3
"""sitevault benchmarks: each one measures sitevault and its peer in the same run and
prints ratios. Speed targets live here, never in tests.

    python3 benches/bench.py [build|buildmem|compress|large|publish|rollback|regions|serve|retention|gate|cssscale|all]

Needs (installed on demand when missing, from Debian/npm/PyPI): minify (tdewolff),
esbuild, awscli + moto, nginx and its brotli_static module, the brotli CLI, wrk, workerd
(edge/node_modules), Debian's python3.11-doc (the docs corpus). Work files go to
benches/work/ (ignored by git). Results are also written to benches/results/*.json.
"""
import json, os, re, shutil, signal, socket, statistics, subprocess, sys, tempfile, time
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
        sh(["cargo", "build", "--release", "--locked"], cwd=ROOT)
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


FINGERPRINT = re.compile(rb"\.[0-9a-f]{10}(?=\.[A-Za-z0-9]+)")


def tree_stats(d, site_only=False):
    """Files, bytes and bytes per type below `d`, without `.sitevault/`. With `site_only` (a
    sitevault build), without the top-level `version.json` the build writes (no site file: the
    build refuses one), and HTML counted without the fingerprints in its references (`.<10 hex>`
    before an extension), as #13 measures pages: the peers do not rename files."""
    by = {t: 0 for t in TYPES}
    files = total = 0
    for p in Path(d).rglob("*"):
        if p.is_file() and ".sitevault" not in p.parts and not (site_only and p == Path(d) / "version.json"):
            files += 1
            size = p.stat().st_size
            total += size
            if p.suffix == ".html" and site_only:
                size -= 11 * len(FINGERPRINT.findall(p.read_bytes()))
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

def corpus_docs():
    """An HTML-heavy documentation site: Python 3.11's Sphinx-built HTML docs, from
    Debian's python3.11-doc package (dangling symlinks to Debian's shared jQuery removed)."""
    c = WORK / "corpus-docs"
    if (c / ".done").exists():
        return c / "html"
    shutil.rmtree(c, ignore_errors=True)
    c.mkdir(parents=True)
    sh("apt-get download python3.11-doc >/dev/null 2>&1 || (apt-get update >/dev/null && apt-get download python3.11-doc >/dev/null)",
       cwd=c)
    deb = next(c.glob("python3.11-doc_*.deb"))
    sh(["dpkg", "-x", str(deb), str(c / "x")])
    shutil.move(str(c / "x" / "usr" / "share" / "doc" / "python3.11" / "html"), str(c / "html"))
    shutil.rmtree(c / "x")
    deb.unlink()
    for p in (c / "html").rglob("*"):
        if p.is_symlink():
            p.unlink()
    (c / ".done").write_text("ok")
    return c / "html"


def corpus_esm():
    """An ES-module app with an import map: three.js's module build and its addons
    (examples/jsm), pages that import them through `three` and `three/addons/`."""
    c = WORK / "corpus-esm"
    if (c / ".done").exists():
        return c / "site"
    three = corpus() / "three-0.170.0" / "package"
    shutil.rmtree(c, ignore_errors=True)
    site = c / "site"
    (site / "build").mkdir(parents=True)
    for f in ("three.module.js", "three.core.js", "three.webgpu.js"):
        if (three / "build" / f).exists():
            shutil.copy(three / "build" / f, site / "build" / f)
    shutil.copytree(three / "examples" / "jsm", site / "examples" / "jsm")
    demos = ["controls/OrbitControls.js", "loaders/GLTFLoader.js", "postprocessing/EffectComposer.js",
             "geometries/TextGeometry.js", "environments/RoomEnvironment.js"]
    importmap = '{"imports": {"three": "./build/three.module.js", "three/addons/": "./examples/jsm/"}}'
    for i, d in enumerate(demos):
        name = "index.html" if i == 0 else f"demo{i}.html"
        (site / name).write_text(f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>demo {i}</title>
<script type="importmap">{importmap}</script></head><body><canvas id="c"></canvas>
<script type="module">
import * as THREE from 'three';
import * as addon from 'three/addons/{d}';
const scene = new THREE.Scene();
console.log(Object.keys(addon).length, scene.type);
</script></body></html>
""")
    (c / ".done").write_text("ok")
    return site


def build_one(kind, src, rounds=5):
    """One corpus: sitevault (cold, warm, one core) vs tdewolff minify -r and esbuild,
    interleaved rounds; output bytes per type."""
    files, size, by_in = tree_stats(src)
    print(f"\n{kind} corpus: {files} files, {size/1e6:.1f} MB ({src})")
    out = WORK / f"out-{kind}"
    shutil.rmtree(out, ignore_errors=True); out.mkdir()
    cache = WORK / f"cache-{kind}"
    cfg = WORK / f"build-{kind}.toml"
    cfg.write_text(f'[build]\ncache_dir = "{cache}"\n')
    # Minification and fingerprinting only: precompression is measured on its own (`bench.py compress`).
    svcmd = [str(SV), "--config", str(cfg), "build", str(src), "-o", str(out / "sitevault"), "-q", "--keep-going",
             "--no-compress"]
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
    # same conditions; report each tool's best and median round.
    # "cold": no cache, OUT holding the last build (a developer's rebuild: outputs whose
    # bytes did not change are not written again). "fresh": no cache and no OUT (a CI
    # checkout), so every output is a new file, as each of tdewolff's rounds is.
    runs = {"cold": [], "fresh": [], "warm": [], "one": [], "minify": [], "esbuild": []}
    for _ in range(rounds):
        shutil.rmtree(out / "minify", ignore_errors=True)
        runs["minify"].append(timed(mcmd, check=False))
        shutil.rmtree(cache, ignore_errors=True)
        runs["cold"].append(timed(svcmd))
        shutil.rmtree(cache, ignore_errors=True)
        shutil.rmtree(out / "sitevault", ignore_errors=True)
        runs["fresh"].append(timed(svcmd))
        runs["warm"].append(timed(svcmd))
        if esb_inputs:
            runs["esbuild"].append(timed(ecmd))
    runs["one"].append(timed(one))
    best = {k: min(v) for k, v in runs.items() if v}
    med = {k: statistics.median(v) for k, v in runs.items() if v}
    spread = lambda k: f"{min(runs[k]):.2f}–{max(runs[k]):.2f} s"
    ratio = lambda k: f"{best[k]/best['minify']:.2f}x / {med[k]/med['minify']:.2f}x"
    rows = [
        ["sitevault build, cold (all types, fingerprinted)", f"{best['cold']:.2f} s", f"{med['cold']:.2f} s", spread("cold"), ratio("cold")],
        ["sitevault build, cold into an empty OUT", f"{best['fresh']:.2f} s", f"{med['fresh']:.2f} s", spread("fresh"), ratio("fresh")],
        ["sitevault build, warm (no change)", f"{best['warm']:.2f} s", f"{med['warm']:.2f} s", spread("warm"), ratio("warm")],
        ["sitevault build, cold, 1 core", f"{best['one']:.2f} s", "", "", f"{best['one']/best['minify']:.2f}x"],
        ["tdewolff minify -r (all types)", f"{best['minify']:.2f} s", f"{med['minify']:.2f} s", spread("minify"), "1.00x"],
    ]
    if esb_inputs:
        rows.append([f"esbuild --minify (JS+CSS only, {len(esb_inputs)} files)", f"{best['esbuild']:.2f} s",
                     f"{med['esbuild']:.2f} s", spread("esbuild"), ratio("esbuild")])
    table(f"Build, {kind}: time ({rounds} interleaved rounds; ratio of bests / of medians vs tdewolff minify -r)",
          ["tool", "best", "median", "range", "ratio"], rows)
    _, _, by_sv = tree_stats(out / "sitevault", site_only=True)
    _, _, by_min = tree_stats(out / "minify")
    _, _, by_esb = tree_stats(out / "esbuild") if (out / "esbuild").exists() else (0, 0, {t: 0 for t in TYPES})
    trow = []
    for t in TYPES:
        peers = [v for v in (by_min[t], by_esb[t] if t in (".js", ".css") else 0) if v]
        low = min(peers) if peers else 0
        r = f"{by_sv[t]/low:.3f}" if low else "-"
        trow.append([t, f"{by_in[t]/1e6:.2f} MB", f"{by_sv[t]/1e6:.2f} MB", f"{by_min[t]/1e6:.2f} MB",
                     f"{by_esb[t]/1e6:.2f} MB" if t in (".js", ".css") else "-", r])
    table(f"Build, {kind}: output bytes per type (ratio = sitevault / smallest peer)",
          ["type", "input", "sitevault", "minify", "esbuild", "ratio"], trow)
    return {"runs": runs, "best": best, "median": med,
            "bytes": {"in": by_in, "sitevault": by_sv, "minify": by_min, "esbuild": by_esb}}


def bench_build():
    kinds = {"npm": corpus(), "docs": corpus_docs(), "esm": corpus_esm()}
    only = os.environ.get("SV_BENCH_KINDS")
    res = {k: build_one(k, src) for k, src in kinds.items() if not only or k in only.split(",")}
    ratio = lambda r, k: f"{r['best'][k]/r['best']['minify']:.2f}x / {r['median'][k]/r['median']['minify']:.2f}x"
    rows = [[k, f"{r['best']['cold']:.2f} / {r['median']['cold']:.2f} s", f"{r['best']['minify']:.2f} / {r['median']['minify']:.2f} s",
             ratio(r, "cold"), ratio(r, "fresh"), f"{r['best']['warm']/r['best']['minify']:.2f}x"] for k, r in res.items()]
    table("Build: cold build vs tdewolff minify -r per site kind (best / median of interleaved rounds)",
          ["site kind", "sitevault", "minify -r", "ratio (best / median)", "into an empty OUT", "warm rebuild"], rows)
    save("build", res)


# ----------------------------------------------------------------------------- compress

COMPRESSIBLE = (".html", ".css", ".js", ".mjs", ".json", ".svg", ".xml", ".txt", ".webmanifest", ".wasm")


def wire_bytes(root, variants):
    """Bytes a browser downloads for every compressible file under `root` (source maps
    left out), for `br`, `gzip` and `identity`: a file's variant when `variants(path)`
    names one smaller than the file, else the file."""
    total = {"br": 0, "gzip": 0, "identity": 0}
    for p in Path(root).rglob("*"):
        if not p.is_file() or ".sitevault" in p.parts or p.suffix not in COMPRESSIBLE:
            continue
        size = p.stat().st_size
        total["identity"] += size
        for coding, v in variants(p).items():
            total[coding] += min(size, v) if v else size
    return total


def sidecars(p):
    out = {}
    for coding, suffix in (("br", ".br"), ("gzip", ".gz")):
        side = Path(str(p) + suffix)
        out[coding] = side.stat().st_size if side.exists() else None
    return out


def bench_compress():
    """#12: build with precompressed variants vs without, and the peer: tdewolff minify
    followed by the brotli (-q 11) and gzip (-9) CLIs over its output, two at a time
    (2 cores). Bytes on the wire for the corpus, per coding."""
    if not shutil.which("brotli"):
        sh("apt-get install -y brotli >/dev/null 2>&1 || (apt-get update >/dev/null && apt-get install -y brotli >/dev/null)")
    src = corpus()
    out = WORK / "out-compress"
    shutil.rmtree(out, ignore_errors=True); out.mkdir()
    on = [str(SV), "build", str(src), "-o", str(out / "on"), "-q", "--keep-going", "--no-cache"]
    off = [str(SV), "build", str(src), "-o", str(out / "off"), "-q", "--keep-going", "--no-cache", "--no-compress"]
    names = " -o ".join(f"-name '*{e}'" for e in COMPRESSIBLE)
    # minify writes only the files it minifies (into a folder that must not exist yet, or it
    # nests the output one level down): the rest of the site (wasm, text…) is copied after it,
    # without overwriting what it wrote.
    peer = ("minify -r -o {o}/ {s}/ >/dev/null 2>&1; cp -rn {s}/. {o}/; "
            "find {o} -type f \\( {n} \\) -size +255c -print0 | "
            "xargs -0 -P2 -n32 sh -c 'for f; do brotli -q 11 -f -k \"$f\" && gzip -9 -n -k -f \"$f\"; done' _"
            ).format(o=out / "peer", s=src, n=names)
    runs = {"on": [], "off": [], "peer": [], "minify": []}
    for _ in range(int(os.environ.get("SV_BENCH_ROUNDS", "3"))):
        shutil.rmtree(out / "peer", ignore_errors=True)
        runs["minify"].append(timed(["minify", "-r", "-o", str(out / "peer") + "/", str(src) + "/"], check=False))
        runs["on"].append(timed(on))
        shutil.rmtree(out / "peer", ignore_errors=True)
        runs["peer"].append(timed(["sh", "-c", peer], check=False))
        runs["off"].append(timed(off))
    best = {k: min(v) for k, v in runs.items()}
    med = {k: statistics.median(v) for k, v in runs.items()}
    rng = lambda k: f"{min(runs[k]):.1f}–{max(runs[k]):.1f} s"
    rows = [
        ["sitevault build, variants on (br 11 + gzip 9)", f"{best['on']:.1f} s", f"{med['on']:.1f} s", rng("on"),
         f"{best['on']/best['peer']:.2f}x / {med['on']/med['peer']:.2f}x"],
        ["minify -r, then brotli -q 11 + gzip -9 (xargs -P2)", f"{best['peer']:.1f} s", f"{med['peer']:.1f} s", rng("peer"), "1.00x"],
        ["sitevault build --no-compress", f"{best['off']:.1f} s", f"{med['off']:.1f} s", rng("off"),
         f"{best['off']/best['minify']:.2f}x / {med['off']/med['minify']:.2f}x vs minify"],
        ["minify -r", f"{best['minify']:.1f} s", f"{med['minify']:.1f} s", rng("minify"), ""],
    ]
    table(f"Compression: cold build time ({len(runs['on'])} interleaved rounds; ratio of best / of median)",
          ["tool", "best", "median", "range", "ratio"], rows)
    sv_wire = wire_bytes(out / "on", sidecars)
    peer_wire = wire_bytes(out / "peer", sidecars)
    wrows = [[c, f"{sv_wire[c]/1e6:.2f} MB", f"{peer_wire[c]/1e6:.2f} MB", f"{sv_wire[c]/peer_wire[c]:.3f}"]
             for c in ("br", "gzip", "identity")]
    table("Compression: bytes on the wire for the corpus' compressible files (source maps left out)",
          ["Accept-Encoding", "sitevault", "minify + brotli/gzip CLIs", "ratio"], wrows)
    save("compress", {"runs": runs, "wire": {"sitevault": sv_wire, "peer": peer_wire}})


# ----------------------------------------------------------------------------- large versions

def rss_mb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def bench_large(n=100_000):
    """#12: a version of 100,000 files builds, publishes and serves; serve picks up a
    rollout to it within TTL + 1 s, its per-request cost does not grow with the file
    count, and the worker (in workerd) serves it from the index head and one shard."""
    proj = Path(tempfile.mkdtemp(dir=WORK))
    site = proj / "site"
    for i in range(n):
        d = site / f"d{i // 1000:03d}"
        if i % 1000 == 0:
            d.mkdir(parents=True)
        (d / f"p{i}.html").write_text(f"<!doctype html><title>page {i}</title><p>page number {i} of {n}</p>")
    small = proj / "small"
    (small / "d000").mkdir(parents=True)
    for i in range(10):
        (small / "d000" / f"p{i}.html").write_text(f"<!doctype html><title>page {i}</title><p>page number {i}</p>")
    res = {}
    res["build_s"] = timed([str(SV), "build", "site", "-o", "dist", "-q", "--no-cache"], cwd=proj)
    res["build_small_s"] = timed([str(SV), "build", "small", "-o", "dist-small", "-q", "--no-cache"], cwd=proj)
    sh([str(SV), "publish", "dist-small", "--version", "small", "--channel", "production", "-q"], cwd=proj)
    res["publish_s"] = timed([str(SV), "publish", "dist", "--version", "large", "-q"], cwd=proj)
    head = json.loads((proj / ".sitevault/store/versions/large/index.json").read_text())
    res["index_head_bytes"] = (proj / ".sitevault/store/versions/large/index.json").stat().st_size
    res["shards"] = head["shards"]["of"]
    # Schema 3 stores shards once by hash (`shards/<hash>.json`); schema 2 per version.
    shard_dir = proj / ".sitevault/store/shards" / ("" if head["shards"].get("shared") else "large")
    res["shard_bytes_max"] = max((shard_dir / f"{k}.json").stat().st_size for k in head["shards"]["keys"])
    sp = free_port()
    svp = subprocess.Popen([str(SV), "serve", "--channel", "production", "--listen", f"127.0.0.1:{sp}",
                            "--ttl", "1s", "-q"], cwd=proj)
    origin_port = free_port()
    # No open_file_cache on the origin: it would serve the replaced manifest for a minute.
    origin = nginx(proj / ".sitevault" / "store", origin_port, file_cache=False)
    wd_port = free_port()
    wd_dir = Path(tempfile.mkdtemp(dir=WORK))
    copy_worker(wd_dir)
    # The isolate's JS heap capped at Cloudflare's 128 MB: a worker that needed more fails here.
    (wd_dir / "config.capnp").write_text((ROOT / "edge" / "config.capnp").read_text().replace(
        "  sockets = [", '  v8Flags = ["--max-old-space-size=128"],\n  sockets = [', 1))
    env = dict(os.environ, SV_ORIGIN=f"http://127.0.0.1:{origin_port}", SV_CHANNEL="production", SV_TTL_MS="1000")
    wd = subprocess.Popen([str(ROOT / "edge" / "node_modules" / ".bin" / "workerd"), "serve", "config.capnp",
                           "--experimental", "--socket-addr", f"http=127.0.0.1:{wd_port}"], cwd=wd_dir, env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cookie = ["Cookie: sv_uid=bench-user"]
    try:
        wait_port(sp); wait_port(wd_port)
        page = "/d000/p5"
        res["serve_small_rps"] = [wrk(f"http://127.0.0.1:{sp}{page}", 4, cookie) for _ in range(2)]
        res["serve_rss_small_mb"] = rss_mb(svp.pid)
        wrk(f"http://127.0.0.1:{wd_port}{page}", 1, cookie)
        res["workerd_rss_small_mb"] = rss_mb(wd.pid)
        # Roll out the large version; time until serve answers a path only it has.
        sh([str(SV), "rollout", "production", "large", "--percent", "100", "-q"], cwd=proj)
        t0 = time.perf_counter()
        while True:
            r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", cookie[0],
                                f"http://127.0.0.1:{sp}/d099/p99999"], capture_output=True, text=True)
            if r.stdout == "200":
                break
            if time.perf_counter() - t0 > 30:
                raise RuntimeError("serve never picked up the large version")
            time.sleep(0.02)
        res["serve_pickup_s"] = time.perf_counter() - t0
        res["serve_large_rps"] = [wrk(f"http://127.0.0.1:{sp}{page}", 4, cookie) for _ in range(2)]
        res["serve_rss_large_mb"] = rss_mb(svp.pid)
        # Interleaved: back to the small version, measured again, then the large one again.
        for version, key in (("small", "serve_small_rps"), ("large", "serve_large_rps")):
            sh([str(SV), "rollback", "production", "--to", version, "--reason", "bench", "-q"], cwd=proj)
            time.sleep(1.5)
            res[key] += [wrk(f"http://127.0.0.1:{sp}{page}", 4, cookie) for _ in range(2)]
        # The worker: a cold isolate state for this version, then 2,000 random paths.
        import random
        t0 = time.perf_counter()
        while subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", cookie[0],
                              f"http://127.0.0.1:{wd_port}/d099/p99999"], capture_output=True, text=True).stdout != "200":
            if time.perf_counter() - t0 > 30:
                raise RuntimeError("the worker never picked up the large version")
            time.sleep(0.05)
        res["worker_pickup_s"] = time.perf_counter() - t0
        import http.client
        c = http.client.HTTPConnection("127.0.0.1", wd_port, timeout=30)
        for i in random.Random(1).sample(range(n), 3000):
            c.request("GET", f"/d{i // 1000:03d}/p{i}", headers={"Cookie": "sv_uid=bench-user"})
            r = c.getresponse()
            body = r.read()
            if r.status != 200 or f"page number {i} ".encode() not in body:
                raise RuntimeError(f"worker: /d{i // 1000:03d}/p{i}: {r.status}")
        c.close()
        res["workerd_large_rps"] = wrk(f"http://127.0.0.1:{wd_port}{page}", 4, cookie)
        res["workerd_rss_large_mb"] = rss_mb(wd.pid)
    finally:
        for p in (svp, origin, wd):
            p.send_signal(signal.SIGTERM); p.wait()
    rows = [
        ["build (no cache)", f"{res['build_s']:.1f} s", f"{n:,} files"],
        ["publish (file store)", f"{res['publish_s']:.1f} s",
         f"index head {res['index_head_bytes']/1000:.1f} KB + {res['shards']} shards of ≤ {res['shard_bytes_max']/1000:.0f} KB"],
        ["serve: rollout seen (TTL 1 s)", f"{res['serve_pickup_s']:.2f} s", "target ≤ TTL + 1 s"],
        ["serve: req/s on one page, 10-file vs 100k-file version (best / median of 4 interleaved)",
         f"{max(res['serve_small_rps']):,.0f} / {statistics.median(res['serve_small_rps']):,.0f} vs "
         f"{max(res['serve_large_rps']):,.0f} / {statistics.median(res['serve_large_rps']):,.0f}",
         f"{max(res['serve_large_rps'])/max(res['serve_small_rps']):.2f}x / "
         f"{statistics.median(res['serve_large_rps'])/statistics.median(res['serve_small_rps']):.2f}x"],
        ["serve: RSS, 10-file vs 100k-file version", f"{res['serve_rss_small_mb']:.0f} vs {res['serve_rss_large_mb']:.0f} MB", ""],
        ["worker in workerd: rollout seen (TTL 1 s)", f"{res['worker_pickup_s']:.2f} s", ""],
        ["worker in workerd, JS heap capped at 128 MB: 3,000 random paths of the 100k version", "all 200",
         f"workerd process RSS {res['workerd_rss_small_mb']:.0f} → {res['workerd_rss_large_mb']:.0f} MB"],
    ]
    table(f"A version of {n:,} files", ["what", "measured", "note"], rows)
    save("large", res)


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

def copy_worker(wd_dir):
    """The worker's modules, as workerd's config.capnp embeds them."""
    for name in ("worker.js", "blake3.js"):
        shutil.copy(ROOT / "edge" / name, wd_dir / name)


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
        victim.write_bytes(orig.replace(b"</svg>", b"<!--! changed --></svg>"))  # a licence comment: minifying keeps it
        try:
            sh([str(SV), "build", str(corpus()), "-o", str(dist), "-q", "--keep-going", "--no-cache"])
        finally:
            victim.write_bytes(orig)
        sv_one, sv_one_req = counted(moto, lambda: sh([str(SV), "publish", str(dist), "--version", "v2", "-q"], cwd=proj, env=env))
        # aws s3 sync compares size and mtime: a rebuild rewrites every file, so it re-uploads all.
        # --size-only is its best case (and misses same-size edits).
        moto.bucket("aws-sync-size")
        sh(aws + [str(dist), "s3://aws-sync-size/site/"], env=env)
        victim.write_bytes(orig.replace(b"</svg>", b"<!--! changed again --></svg>"))
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
                # Built in the project that publishes, as users do: one cache, where the
                # build records its output folders for publish.
                sh([str(SV), "build", str(corpus()), "-o", str(dist), "-q", "--keep-going"], cwd=proj, env=env)
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


def cpu_ticks(pids):
    """User and system clock ticks used so far by `pids` (threads included)."""
    total = 0
    for pid in pids:
        try:
            f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            total += int(f[11]) + int(f[12])
        except (OSError, IndexError, ValueError):
            pass
    return total


def wrk_cpu(url, secs, headers, pids):
    """`wrk` against `url`: (requests/s, the server's CPU µs per request)."""
    before = cpu_ticks(pids)
    rps = wrk(url, secs, headers)
    used = (cpu_ticks(pids) - before) / os.sysconf("SC_CLK_TCK")
    return rps, (used * 1e6 / (rps * secs) if rps else 0.0)


def wait_port(port, proc=None):
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"port {port} did not open")


def nginx_brotli_module():
    """Debian's brotli_static module for nginx (installed on demand), or None."""
    def find():
        r = subprocess.run(["dpkg", "-L", "libnginx-mod-http-brotli-static"], capture_output=True, text=True)
        return next((l for l in r.stdout.splitlines() if l.endswith("brotli_static_module.so")), None)
    if not find():
        subprocess.run("apt-get install -y libnginx-mod-http-brotli-static >/dev/null 2>&1 || "
                       "(apt-get update >/dev/null 2>&1 && apt-get install -y libnginx-mod-http-brotli-static >/dev/null 2>&1)",
                       shell=True)
    return find()


def nginx(root, port, file_cache=True):
    """nginx as its users run it: sendfile, tcp_nopush, open_file_cache, precompressed
    sidecars (gzip_static, and brotli_static when Debian's module is there), 2 workers."""
    conf = Path(tempfile.mkdtemp(dir=WORK)) / "nginx.conf"
    # Its workers run as nobody: mkdtemp's 0700 folders would make every answer a 403/404.
    for d in [Path(root), *Path(root).parents]:
        if d == WORK or WORK not in d.parents:
            break
        d.chmod(d.stat().st_mode | 0o055)
    br = nginx_brotli_module()
    conf.write_text(f"""{f"load_module {br};" if br else ""}
worker_processes 2; daemon off; pid {conf.parent}/nginx.pid; error_log {conf.parent}/error.log;
events {{ worker_connections 1024; }}
http {{ access_log off; sendfile on; tcp_nopush on; keepalive_timeout 65; keepalive_requests 100000;
  {"open_file_cache max=1000 inactive=60s;" if file_cache else ""} gzip_static on; gzip_vary on; {"brotli_static on;" if br else ""}
  types {{ text/html html; text/javascript js; application/json json; }}
  server {{ listen 127.0.0.1:{port}; root {root}; location / {{ try_files $uri $uri/index.html =404; }} }} }}
""")
    p = subprocess.Popen(["nginx", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port)
    return p


def nginx_workers(*masters):
    """The worker pids of nginx masters."""
    pids = set()
    for d in os.listdir("/proc"):
        try:
            if d.isdigit() and int(open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()[1]) in {m.pid for m in masters}:
                pids.add(int(d))
        except (OSError, IndexError, ValueError):
            pass
    return pids


def wait_idle(at_most=300, skip=()):
    """Waits (up to `at_most` s) until no other process keeps the CPUs busy (a compile
    next to a load test makes its numbers meaningless). `skip`: our own servers' pids."""
    def busy():
        def ticks():
            t = {}
            for d in os.listdir("/proc"):
                if d.isdigit() and int(d) not in skip and int(d) != os.getpid():
                    try:
                        f = open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()
                        t[d] = int(f[11]) + int(f[12])
                    except (OSError, IndexError, ValueError):
                        pass
            return t
        a = ticks(); time.sleep(1); b = ticks()
        return sum(b[k] - a.get(k, b[k]) for k in b) / os.sysconf("SC_CLK_TCK")  # CPU-seconds in 1 s
    deadline = time.time() + at_most
    while busy() > 0.15 and time.time() < deadline:
        time.sleep(2)


def check_same_bytes(url, extra, entry, coding, tool):
    """Fails unless `tool` answers `url` with the representation the case is about:
    identity bytes without Accept-Encoding, the brotli variant for `br, gzip`."""
    import http.client
    from urllib.parse import urlsplit
    u = urlsplit(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    c.putrequest("GET", u.path, skip_accept_encoding=True)
    c.putheader("Cookie", "sv_uid=bench-user")
    for h in extra:
        k, v = h.split(":", 1)
        c.putheader(k, v.strip())
    c.endheaders()
    r = c.getresponse()
    body = r.read()
    c.close()
    want_enc, want = (None, entry["size"]) if coding == "identity" else ("br", entry["enc"]["br"]["size"])
    got_enc = r.getheader("Content-Encoding")
    if r.status != 200 or got_enc != want_enc or len(body) != want:
        raise RuntimeError(f"{tool} {url} {extra}: {r.status}, Content-Encoding {got_enc}, {len(body)} bytes; "
                           f"want 200, {want_enc}, {want} bytes")


def bench_serve():
    proj = Path(tempfile.mkdtemp(dir=WORK))
    site = proj / "site"
    site.mkdir()
    (site / "index.html").write_text("<!doctype html><title>bench</title>" +
                                      "".join(f"<p>paragraph {i} of a small page, with some text.</p>\n" for i in range(180)) +
                                      '<script src="asset.js"></script>')
    (site / "asset.js").write_text("/*! bench asset */\nvar data = " + json.dumps(os.urandom(60_000).hex()[:100_000]) + ";\n")
    sh([str(SV), "build", "site", "-o", "dist", "-q"], cwd=proj)
    sh([str(SV), "publish", "dist", "--version", "v1", "--channel", "production", "-q"], cwd=proj)
    m = json.loads((proj / "dist" / ".sitevault" / "manifest.json").read_text())
    asset = next(k for k in m["files"] if k.startswith("/asset."))
    sizes = {"page": m["files"]["/index.html"], "asset": m["files"][asset]}
    paths = {"page": "/index.html", "asset": asset}
    sp = free_port()
    svp = subprocess.Popen([str(SV), "serve", "--channel", "production", "--listen", f"127.0.0.1:{sp}", "-q"], cwd=proj)
    ng_port = free_port()
    ng = nginx(proj / "dist", ng_port)  # the build's folder, with its .br/.gz sidecars
    origin_port = free_port()
    origin = nginx(proj / ".sitevault" / "store", origin_port)
    wd_port = free_port()
    wd_dir = Path(tempfile.mkdtemp(dir=WORK))
    copy_worker(wd_dir)
    shutil.copy(ROOT / "edge" / "config.capnp", wd_dir / "config.capnp")
    env = dict(os.environ, SV_ORIGIN=f"http://127.0.0.1:{origin_port}", SV_CHANNEL="production", SV_TTL_MS="5000")
    wd = subprocess.Popen([str(ROOT / "edge" / "node_modules" / ".bin" / "workerd"), "serve", "config.capnp", "--experimental",
                           "--socket-addr", f"http=127.0.0.1:{wd_port}"], cwd=wd_dir, env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ports = {"sitevault": sp, "nginx": ng_port, "workerd": wd_port}
    ours = {p.pid for p in (svp, ng, origin, wd)} | nginx_workers(ng, origin)
    # Whose CPU each tool's rounds cost: the server's processes (the worker's origin is
    # not counted: it is another server).
    pids = {"sitevault": {svp.pid}, "nginx": nginx_workers(ng), "workerd": {wd.pid}}
    cookie = "Cookie: sv_uid=bench-user"
    codings = {"identity": [], "br": ["Accept-Encoding: br, gzip"]}
    rounds, secs = 3, 5
    res = {}
    try:
        wait_port(sp); wait_port(wd_port)
        for name, path in paths.items():
            for coding, extra in codings.items():
                case = f"{name}/{coding}"
                for tool, port in ports.items():
                    check_same_bytes(f"http://127.0.0.1:{port}{path}", extra, sizes[name], coding, tool)
                    wrk(f"http://127.0.0.1:{port}{path}", 1, [cookie] + extra)  # warm caches
                runs = {tool: [] for tool in ports}
                cpu = {tool: [] for tool in ports}
                for _ in range(rounds):  # tools interleaved, so drift hits them alike
                    for tool, port in ports.items():
                        wait_idle(skip=ours)
                        hdrs = ([cookie] if tool != "nginx" else []) + extra
                        rps, us = wrk_cpu(f"http://127.0.0.1:{port}{path}", secs, hdrs, pids[tool])
                        runs[tool].append(rps)
                        cpu[tool].append(us)
                res[case] = {tool: {"runs": r, "best": max(r), "median": statistics.median(r),
                                    "cpu_us": cpu[tool]} for tool, r in runs.items()}
    finally:
        for p in (svp, ng, origin, wd):
            p.send_signal(signal.SIGTERM); p.wait()
    rows = []
    for case, r in res.items():
        name, coding = case.split("/")
        sent = sizes[name]["size"] if coding == "identity" else sizes[name]["enc"]["br"]["size"]
        sv, ng_ = r["sitevault"], r["nginx"]
        rng = lambda t: f"{t['median']:,.0f} ({min(t['runs']):,.0f}–{t['best']:,.0f})"
        us = lambda t: f"{statistics.median(t['cpu_us']):.1f} ({min(t['cpu_us']):.1f}–{max(t['cpu_us']):.1f})"
        rows.append([f"{name} {'identity' if coding == 'identity' else 'br, gzip → br'} ({sent/1000:.1f} KB)",
                     rng(sv), rng(ng_), f"{sv['best']/ng_['best']:.2f}x", f"{sv['median']/ng_['median']:.2f}x",
                     us(sv), us(ng_), rng(r["workerd"])])
    table(f"Serve: requests/s, median (min–best) of {rounds} interleaved {secs} s rounds, wrk -t2 -c32 keep-alive, loopback "
          "(routing on for sitevault and the worker; nginx: sendfile, open_file_cache, gzip_static"
          f"{', brotli_static' if nginx_brotli_module() else ''})",
          ["file", "sitevault serve", "nginx (dist/)", "ratio best", "ratio median",
           "sitevault CPU µs/request", "nginx CPU µs/request", "worker in workerd (nginx origin)"], rows)
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


def bench_jsscale():
    """Build time and peak RSS of scripts shaped to find superlinear stages, N doubling:
    one `else if` chain of N links, N nested labels, N nested duplicate labels (invalid:
    built with --keep-going), one chain of N conditionals, one chain of N `&&`. swc_ecma_parser 47 was quadratic in all three (80,000 links:
    13 s; 20,000 duplicate labels: 80 s and 17 GB); vendor/swc_ecma_parser has the fixes."""
    shapes = {
        "else if": lambda n: "var x = Math.random() * 10 | 0, y;\nif (x === -1) { y = -1; }\n"
                             + "".join(f"else if (x === {i}) {{ y = {i}; }}\n" for i in range(n)) + "console.log(y);\n",
        "labels": lambda n: "".join(f"l{i}: " for i in range(n)) + "console.log(1);\n",
        "duplicate labels": lambda n: "a: " * n + "console.log(1);\n",
        # oxc's compressor (session 34) walks a chain again at each link: past
        # oxc::suits's bounds such files are swc's.
        "conditional chain": lambda n: "var a = Math.random(), b = 1, x;\nx = " + "a ? b : " * n + "0;\nconsole.log(x);\n",
        "&& chain": lambda n: "var a = Math.random(), x;\nx = " + "a && " * n + "a;\nconsole.log(x);\n",
    }
    sizes = {"conditional chain": [5_000, 10_000, 20_000], "&& chain": [5_000, 10_000, 20_000]}
    rows, res = [], {}
    for shape, make in shapes.items():
        prev = None
        for n in sizes.get(shape, [20_000, 40_000, 80_000]):
            proj = Path(tempfile.mkdtemp(dir=WORK))
            (proj / "site").mkdir()
            (proj / "site" / "big.js").write_text(make(n))
            (proj / "store.toml").write_text("[build]\ncompress = []\n")
            cmd = [str(SV), "build", "site", "-o", "dist", "-q", "--no-cache", "--keep-going"]
            ts = [timed(cmd, cwd=proj) for _ in range(3)]
            rss = peak_rss_mb(cmd, cwd=proj)
            res[f"{shape} {n}"] = {"s": ts, "rss_mb": rss}
            ratio = f"{min(ts) / prev:.2f}x" if prev else "-"
            prev = min(ts)
            rows.append([shape, f"{n:,}", f"{min(ts):.2f} s", f"{statistics.median(ts):.2f} s", ratio, f"{rss:.0f} MB"])
            shutil.rmtree(proj, ignore_errors=True)
    table("JS: shapes that made the parser or a compressor quadratic (3 rounds)",
          ["shape", "N", "best", "median", "best vs N/2", "peak RSS"], rows)
    save("jsscale", res)


def peak_rss_mb(cmd, cwd=None):
    """Peak resident memory of a command, in MB (its own, from wait4's rusage)."""
    p = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return ru.ru_maxrss / 1024


def bench_buildmem():
    """Peak RSS of a build whose largest file is 20 MB (a stylesheet, a page, both),
    against #13's bound of 4 × the largest input + 256 MB; tdewolff's minify on the
    same folders for reference."""
    base = Path(tempfile.mkdtemp(dir=WORK))
    css = next(corpus().rglob("bootstrap.css")).read_text()
    page = (corpus_docs() / "library" / "os.html").read_text()
    head, rest = page.split("<body", 1)
    open_end = rest.index(">") + 1
    body, tail = rest[open_end:].rsplit("</body>", 1)
    target = 20_000_000
    kinds = {"css": ["big.css"], "html": ["big.html"], "both": ["big.css", "big.html"]}
    for kind, files in kinds.items():
        (base / kind).mkdir()
        for f in files:
            with open(base / kind / f, "w") as out:
                if f.endswith(".css"):
                    out.write(css)
                    rule_text = "\n".join(l for l in css.splitlines() if "@charset" not in l)
                    for _ in range(target // len(css)):
                        out.write(rule_text)
                else:
                    out.write(head + "<body" + rest[:open_end])
                    for _ in range(target // len(body) + 1):
                        out.write(body)
                    out.write("</body>" + tail)
    rows, res = [], {}
    for kind, files in kinds.items():
        largest = max((base / kind / f).stat().st_size for f in files) / 1e6
        bound = 4 * largest + 256
        sv = [peak_rss_mb([str(SV), "build", kind, "-o", f"out-{kind}", "-q", "--no-cache", "--no-compress",
                           "--keep-going"], cwd=base) for _ in range(2)]
        mn = peak_rss_mb(["minify", "-r", "-o", str(base / f"min-{kind}") + "/", str(base / kind) + "/"])
        res[kind] = {"sitevault_mb": sv, "minify_mb": mn, "bound_mb": bound}
        rows.append([kind, f"{largest:.1f} MB", f"{max(sv):.0f} MB", f"{bound:.0f} MB",
                     "met" if max(sv) <= bound else "not met", f"{mn:.0f} MB"])
    table("Build peak RSS, largest input 20 MB (bound: 4 × largest + 256 MB)",
          ["input", "largest file", "sitevault peak RSS", "bound", "", "minify -r"], rows)
    save("buildmem", res)
    shutil.rmtree(base, ignore_errors=True)


def main():
    which = sys.argv[1] if len(sys.argv) > 1 else "all"
    ensure_tools()
    benches = {"build": bench_build, "compress": bench_compress, "large": bench_large, "publish": bench_publish, "rollback": bench_rollback,
               "serve": bench_serve, "retention": bench_retention, "gate": bench_gate,
               "cssscale": bench_cssscale, "jsscale": bench_jsscale, "regions": bench_regions, "buildmem": bench_buildmem}
    for name, fn in benches.items():
        if which in (name, "all"):
            fn()


if __name__ == "__main__":
    main()
