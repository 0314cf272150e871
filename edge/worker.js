// sitevault edge worker (Cloudflare Workers module syntax).
//
// Reads a channel's manifest and version indexes from ORIGIN (a base URL where the
// store's keys are readable over HTTP: an S3/R2 public endpoint, or a static server
// over a file:// store folder), routes each visitor exactly like `sitevault serve`
// (same rule, same vectors), and serves the routed version's blobs.
//
// Bindings: ORIGIN (required), CHANNEL (default "production"), MANIFEST_TTL_MS (default 5000),
// VERIFY_WHOLE_MAX (bytes, default 2 MiB: blobs up to this size are read whole and
// verified before the status line; larger ones are verified as they stream).

import { Blake3, blake3Hex } from "./blake3.js";

const encoder = new TextEncoder();

/** 32-bit FNV-1a of a string's UTF-8 bytes. */
export function fnv1a32(text) {
  let h = 0x811c9dc5;
  for (const b of encoder.encode(text)) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The visitor's bucket (0..10000) for a canary version. */
export function bucket(canaryVersion, uid) {
  return fnv1a32(canaryVersion + ":" + uid) % 10000;
}

/** The version to serve: override (only current stable or canary), canary share, else stable. */
export function decide(manifest, uid, overrideVersion) {
  const canary = manifest.canary;
  if (overrideVersion) {
    if (overrideVersion === manifest.stable) return manifest.stable;
    if (canary && overrideVersion === canary.version) return canary.version;
  }
  if (canary && bucket(canary.version, uid) < Math.round(canary.percent * 100)) {
    return canary.version;
  }
  return manifest.stable || (canary ? canary.version : null);
}

const IMMUTABLE = "public, max-age=31536000, immutable";
const REVALIDATE = "public, max-age=0, must-revalidate";
const FINGERPRINT = /\.[0-9a-f]{10,64}\./;

/** A clean site path, or null for traversal, encoded `..`, `//`, NUL, over-long paths. */
export function cleanPath(raw) {
  if (raw.length > 2048 || !raw.startsWith("/")) return null;
  let p;
  try {
    p = decodeURIComponent(raw);
  } catch {
    return null;
  }
  if (p.length > 1024 || p.includes("\0") || p.includes("\\") || p.includes("//")) return null;
  if (p.split("/").some((s) => s === ".." || s === ".")) return null;
  return p;
}

function cookie(request, name) {
  const header = request.headers.get("cookie") || "";
  for (const part of header.split(";")) {
    const i = part.indexOf("=");
    if (i > 0 && part.slice(0, i).trim() === name) {
      const v = part.slice(i + 1).trim();
      if (v && v.length <= 128) return v;
    }
  }
  return null;
}

function text(status, body, extra = {}) {
  return new Response(body + "\n", {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store", ...extra },
  });
}

// Per-isolate state: the manifest (with its TTL) and immutable version indexes.
const state = { manifest: null, etag: null, readAt: 0, indexes: new Map(), refreshing: null };

async function refreshManifest(env) {
  const channel = env.CHANNEL || "production";
  const url = `${env.ORIGIN.replace(/\/$/, "")}/channels/${channel}/manifest.json`;
  const headers = state.etag ? { "if-none-match": state.etag } : {};
  try {
    const r = await fetch(url, { headers });
    if (r.status === 304 && state.manifest) {
      state.readAt = Date.now();
      return;
    }
    if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
    const m = await r.json();
    if (typeof m.schema !== "number" || m.schema > 1) throw new Error(`${url}: unsupported schema ${m.schema}`);
    let why = refusal(m, channel, state.manifest);
    // An older generation is taken only when it is the log's newest record: the one
    // served was then none a change wrote (edited, or from another store).
    if (why && why.startsWith("generation") && (await newestInLog(env, channel, m))) why = null;
    if (why) throw new Error(`${url}: ${why}`);
    // Traffic moves only to versions whose index loads (and says it is that version):
    // the stable always; a canary too once a manifest is served (with none yet, its
    // visitors get 502s rather than every visitor a 503).
    const must = state.manifest ? [m.stable, m.canary && m.canary.version] : [m.stable];
    for (const v of must) {
      if (v && !(await versionIndex(env, v))) throw new Error(`${url}: the index of ${v} does not load`);
    }
    state.manifest = m;
    state.etag = r.headers.get("etag");
    state.readAt = Date.now();
  } catch (e) {
    // Keep the last good manifest; say so once per failure.
    console.log(`manifest refresh failed, keeping the last good one: ${e}`);
    state.readAt = Date.now();
  }
}

const VERSION_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * Why a fetched manifest must not replace the one served (as `sitevault serve`
 * decides), or null: another channel's, a version that is not a valid id, a canary
 * percent outside 0–100, or a generation older than the current one (a read never
 * moves traffic back).
 */
export function refusal(m, channel, current) {
  if (m.channel !== channel) return `names channel ${JSON.stringify(m.channel)}`;
  const named = [m.stable, m.canary && m.canary.version, ...(Array.isArray(m.previous) ? m.previous : [])];
  for (const v of named) {
    if (v !== null && v !== undefined && (typeof v !== "string" || !VERSION_ID.test(v))) {
      return `names version ${JSON.stringify(v)}, which is not a valid version id`;
    }
  }
  if (m.canary && !(typeof m.canary.percent === "number" && m.canary.percent >= 0 && m.canary.percent <= 100)) {
    return `canary percent ${m.canary.percent} is outside 0–100`;
  }
  if (typeof m.generation !== "number") return "no generation";
  if (current && m.generation < current.generation) {
    return `generation ${m.generation} is older than generation ${current.generation} being served`;
  }
  return null;
}

/** Whether manifest `m` projects the newest record of the channel's log. */
async function newestInLog(env, channel, m) {
  const base = `${env.ORIGIN.replace(/\/$/, "")}/channels/${channel}/log/`;
  const key = (g) => `${base}${String(g).padStart(20, "0")}.json`;
  const [r, next] = await Promise.all([fetch(key(m.generation)), fetch(key(m.generation + 1))]);
  if (!r.ok || next.status !== 404) return false;
  const rec = await r.json();
  const st = (rec && rec.state) || {};
  const same = (a, b) => (a ? a.version + ":" + a.percent : "") === (b ? b.version + ":" + b.percent : "");
  return rec.generation === m.generation && (st.stable || null) === (m.stable || null) && same(st.canary, m.canary);
}

async function manifest(env) {
  const ttl = Number(env.MANIFEST_TTL_MS || 5000);
  if (!state.manifest || Date.now() - state.readAt >= ttl) {
    if (!state.refreshing) {
      state.refreshing = refreshManifest(env).finally(() => {
        state.refreshing = null;
      });
    }
    await state.refreshing;
  }
  return state.manifest;
}

async function versionIndex(env, version) {
  const cached = state.indexes.get(version);
  if (cached) return cached;
  const r = await fetch(`${env.ORIGIN.replace(/\/$/, "")}/versions/${version}/index.json`);
  if (!r.ok) return null;
  const idx = await r.json();
  // Schema 2: variants and shards (#12); 3: shared shards (#14); 4: shards chosen by
  // unfingerprinted name, version.json in the head (#14); anything newer needs a newer worker.
  // An index copied under another id (its `version` says which) makes no version routable.
  if (!idx || typeof idx.schema !== "number" || idx.schema > 4 || idx.version !== version) return null;
  if (state.indexes.size >= 64) state.indexes.clear();
  state.indexes.set(version, idx);
  return idx;
}

// Shards of large versions' indexes (`shards/<hash>.json`, or `shards/<v>/<hash>.json`
// under schema 2), fetched on demand:
// a version of 100,000 files costs a few-KB head plus the shards of the paths asked
// for, never its whole index. Bounded, least recently used out first.
const MAX_SHARDS = 32;
const shards = new Map();

function own(files, path) {
  return Object.prototype.hasOwnProperty.call(files, path) ? files[path] : null;
}

/**
 * The name a path is sharded by under a schema-4 head (`stem`): the fingerprint, 10 to
 * 64 lowercase hex digits between dots before the last one or at the end of the file
 * name, taken out (`/a/app.3f2c9e01ab.js` → `/a/app.js`). As `shard_key` in
 * src/publish/shards.rs; both pass fixtures/routing-vectors.json.
 */
export function shardKey(path) {
  const fingerprint = (s) => /^[0-9a-f]{10,64}$/.test(s);
  const start = path.lastIndexOf("/") + 1;
  const name = path.slice(start);
  const dot = name.lastIndexOf(".");
  if (dot < 0) return path;
  const d2 = name.lastIndexOf(".", dot - 1);
  if (dot > 0 && d2 >= 0 && fingerprint(name.slice(d2 + 1, dot))) return path.slice(0, start + d2) + name.slice(dot);
  if (dot > 0 && fingerprint(name.slice(dot + 1))) return path.slice(0, start + dot);
  return path;
}

/** The entry of `path` in a version's index (its shard fetched when the index is sharded). */
async function entryOf(env, version, idx, path) {
  if (!idx.shards) return own(idx.files, path);
  // Schema 4: files every build changes (version.json) are in the head itself.
  if (idx.shards.inline && own(idx.shards.inline, path)) return own(idx.shards.inline, path);
  const hash = idx.shards.keys[fnv1a32(idx.shards.stem ? shardKey(path) : path) % idx.shards.of];
  // Schema 3: shards stored once by hash, shared between versions; schema 2: one copy per version.
  const key = idx.shards.shared ? hash : `${version}/${hash}`;
  let pending = shards.get(key);
  if (pending) {
    // Least recently used goes first: a hit moves to the end.
    shards.delete(key);
  } else {
    pending = fetch(`${env.ORIGIN.replace(/\/$/, "")}/shards/${key}.json`).then(async (r) => {
      if (!r.ok) throw new Error(`shard ${key}: HTTP ${r.status}`);
      // A shard is named by the blake3 of its bytes (both schemas): one that is not
      // those bytes routes nothing (its paths get 502s, and it is fetched again later).
      const bytes = new Uint8Array(await r.arrayBuffer());
      const got = blake3Hex(bytes);
      if (got !== hash) throw new Error(`shard ${key}: its bytes hash to ${got}`);
      const doc = JSON.parse(new TextDecoder().decode(bytes));
      if (!doc || typeof doc.files !== "object" || doc.files === null) throw new Error(`shard ${key}: no files map`);
      return doc.files;
    });
    pending.catch(() => shards.delete(key));
    if (shards.size >= MAX_SHARDS) shards.delete(shards.keys().next().value);
  }
  shards.set(key, pending);
  return own(await pending, path);
}

async function lookup(env, version, idx, path) {
  const candidates = path.endsWith("/") ? [path + "index.html"] : [path, path + "/index.html", path + ".html"];
  for (const c of candidates) {
    const e = await entryOf(env, version, idx, c);
    if (e) return e;
  }
  return null;
}

function parseRange(header, size) {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header || "");
  if (!m || (m[1] === "" && m[2] === "")) return null;
  let start;
  let end;
  if (m[1] === "") {
    const n = Number(m[2]);
    if (n === 0) return "invalid";
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start > end || start >= size) return "invalid";
  return [start, end];
}

/**
 * Content negotiation, the same rule as `src/edge/encoding.rs`: Accept-Encoding with
 * q-values; br, then gzip, then identity on equal weight; a coding's weight is its own
 * entry, else `*`'s, else 0; identity is acceptable unless `identity;q=0` (or `*;q=0`
 * without an identity entry). Returns "identity", "br", "gzip" or null (406).
 */
export function negotiate(accept, enc) {
  if (accept === null || accept === undefined) return "identity";
  const w = {};
  for (const item of accept.split(",").slice(0, 64)) {
    const parts = item.split(";");
    let token = parts[0].trim().toLowerCase();
    if (token === "x-gzip") token = "gzip";
    let q = 1000;
    for (const p of parts.slice(1)) {
      const i = p.indexOf("=");
      if (i > 0 && p.slice(0, i).trim().toLowerCase() === "q") q = parseQ(p.slice(i + 1));
    }
    if (q === null || !["br", "gzip", "identity", "*"].includes(token)) continue;
    w[token] = token in w ? Math.max(w[token], q) : q;
  }
  // Unnamed, identity is acceptable but least preferred: any acceptable variant wins.
  const identity = "identity" in w ? w.identity : w["*"] === 0 ? 0 : 1;
  let best = [identity, "identity"];
  for (const c of ["gzip", "br"]) {
    if (!enc || !enc[c]) continue;
    const q = c in w ? w[c] : "*" in w ? w["*"] : 0;
    if (q > 0 && q >= best[0]) best = [q, c];
  }
  return best[0] === 0 && best[1] === "identity" ? null : best[1];
}

function parseQ(s) {
  const m = /^\s*(0(?:\.(\d{0,3}))?|1(?:\.0{0,3})?)\s*$/.exec(s);
  if (!m) return null;
  if (m[1].startsWith("1")) return 1000;
  return Number(((m[2] || "") + "000").slice(0, 3));
}

async function fileResponse(env, request, entry, status) {
  // A range request gets the identity bytes (see `sitevault serve`); If-Range must
  // name them (a resumed download never mixes two versions' bytes).
  const ifRange = request.headers.get("if-range");
  const ranged =
    status === 200 && request.headers.get("range") !== null && (ifRange === null || ifRange.trim() === `"${entry.hash}"`);
  const coding = negotiate(request.headers.get("accept-encoding"), ranged ? null : entry.enc);
  const varies = entry.enc && (entry.enc.br || entry.enc.gzip);
  if (coding === null) {
    return text(406, "this file is stored only in codings the request refuses (Accept-Encoding)", { vary: "Accept-Encoding" });
  }
  // Each representation has its own ETag: the blake3 of the bytes it sends.
  const body = coding === "identity" ? { hash: entry.hash, size: entry.size } : entry.enc[coding];
  const etag = `"${body.hash}"`;
  const headers = {
    "content-type": entry.type,
    "cache-control": status === 200 && entry.cache === "immutable" ? IMMUTABLE : REVALIDATE,
    etag,
    "accept-ranges": "bytes",
  };
  if (varies) headers.vary = "Accept-Encoding";
  if (coding !== "identity") headers["content-encoding"] = coding;
  if (status === 200) {
    // If-Match compares strongly: a representation it does not name is a 412.
    const im = request.headers.get("if-match");
    if (im !== null && !im.split(",").some((t) => t.trim() === etag || t.trim() === "*")) {
      return text(412, "the file's ETag does not match If-Match");
    }
    const inm = request.headers.get("if-none-match");
    if (inm && inm.split(",").some((t) => t.trim() === etag || t.trim() === "*")) {
      return new Response(null, { status: 304, headers });
    }
  }
  const range = ranged ? parseRange(request.headers.get("range"), entry.size) : null;
  if (range === "invalid") {
    return new Response(null, { status: 416, headers: { ...headers, "content-range": `bytes */${entry.size}` } });
  }
  const blobUrl = `${env.ORIGIN.replace(/\/$/, "")}/blobs/${body.hash.slice(0, 2)}/${body.hash}`;
  // HEAD answers from the index without fetching the blob (verifying it would cost the
  // whole GET); a broken blob's HEAD is thus a 200 where its GET is a 502.
  // A HEAD answers what the GET would: a blob small enough to read whole is fetched and
  // checked (a corrupt one is a 502 for both, as in `sitevault serve`); a larger one is
  // not fetched.
  const head = request.method === "HEAD";
  const headResponse = () => {
    const len = range ? range[1] - range[0] + 1 : body.size;
    const extra = range ? { "content-range": `bytes ${range[0]}-${range[1]}/${entry.size}` } : {};
    return new Response(null, { status: range ? 206 : status, headers: { ...headers, ...extra, "content-length": String(len) } });
  };
  if (head && body.size > wholeMax(env)) return headResponse();
  // The bytes exactly as stored, so they can be checked against the hash that names
  // them: `identity` keeps an origin (or a CDN before it) from compressing on the fly,
  // and "manual" keeps the runtime from decoding an object the origin labels with
  // Content-Encoding (S3 with sitevault's attributes labels each variant).
  let r;
  try {
    r = await fetch(blobUrl, { headers: { "accept-encoding": "identity" }, encodeResponseBody: "manual" });
  } catch (e) {
    console.log(`blob ${body.hash}: ${e}`);
    return text(502, "blob unavailable");
  }
  if (!r.ok) return text(502, "blob unavailable");
  // Sent as they are: a variant's bytes are already encoded (its Content-Encoding is ours).
  const encodeBody = coding === "identity" ? "automatic" : "manual";
  const declared = r.headers.get("content-length");
  if (declared !== null && Number(declared) !== body.size) {
    r.body && r.body.cancel().catch(() => {});
    return unverified(body, `the origin sends ${declared} bytes, not ${body.size}`);
  }
  if (body.size <= wholeMax(env)) {
    // Read whole and verified before the status line: a corrupt blob is a 502, never a
    // 200 (or 206) cut short.
    let bytes;
    try {
      bytes = await readAtMost(r.body, body.size);
    } catch (e) {
      console.log(`blob ${body.hash}: ${e}`);
      return text(502, "blob unavailable");
    }
    if (bytes === null) return unverified(body, `the origin sends more than ${body.size} bytes`);
    if (bytes.length !== body.size) return unverified(body, `the origin sends ${bytes.length} bytes, not ${body.size}`);
    const got = blake3Hex(bytes);
    if (got !== body.hash) return unverified(body, `its bytes hash to ${got}`);
    if (head) return headResponse();
    if (range) {
      return new Response(bytes.subarray(range[0], range[1] + 1), {
        status: 206,
        headers: { ...headers, "content-range": `bytes ${range[0]}-${range[1]}/${entry.size}` },
      });
    }
    return new Response(bytes, { status, headers, encodeBody });
  }
  // Too large to hold in an isolate: hashed as it streams, its last piece held back
  // until the whole blob verifies; a mismatch errors the stream, so the client sees a
  // failed transfer (fewer bytes than Content-Length, the connection cut), never a
  // complete corrupt body. A range of such a blob reads (and hashes) the whole blob
  // and sends only the range, so its last bytes wait for the end of the blob.
  const [start, end] = range || [0, body.size - 1];
  const length = end - start + 1;
  if (!r.body) return unverified(body, "the origin sends no body");
  let stream = r.body.pipeThrough(verifier(body, start, end));
  if (typeof FixedLengthStream === "function") stream = stream.pipeThrough(new FixedLengthStream(length));
  if (range) {
    return new Response(stream, {
      status: 206,
      headers: { ...headers, "content-range": `bytes ${range[0]}-${range[1]}/${entry.size}` },
    });
  }
  return new Response(stream, { status, headers, encodeBody });
}

/**
 * Blobs up to this many bytes are read whole and verified before answering. Concurrent
 * requests share the isolate's 128 MB: at 16 MiB a handful of requests for one video
 * (each seek a Range request) could exhaust it and reset the isolate.
 */
const VERIFY_WHOLE_MAX = 2 * 1024 * 1024;

function wholeMax(env) {
  const v = env.VERIFY_WHOLE_MAX;
  const n = v === undefined || v === null || v === "" ? NaN : Number(v);
  return Number.isFinite(n) && n >= 0 ? n : VERIFY_WHOLE_MAX;
}

/** The 502 of a blob whose bytes are not the ones its hash names (logged). */
function unverified(body, why) {
  console.log(`blob ${body.hash} failed verification: ${why}`);
  return text(502, "blob failed verification");
}

/** The whole body, or null once it is longer than `max` bytes (the rest not read). */
async function readAtMost(stream, max) {
  const out = new Uint8Array(max);
  if (!stream) return out.subarray(0, 0);
  const reader = stream.getReader();
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return out.subarray(0, n);
    if (n + value.length > max) {
      reader.cancel().catch(() => {});
      return null;
    }
    out.set(value, n);
    n += value.length;
  }
}

/**
 * A TransformStream that hashes a blob's bytes as they pass and lets through those in
 * [start, end], holding back the last piece until the blob's length and blake3 are
 * `expect`'s: otherwise the stream errors and that piece is never sent.
 */
export function verifier(expect, start, end) {
  const hasher = new Blake3();
  let seen = 0;
  let held = null;
  return new TransformStream({
    transform(chunk, controller) {
      const bytes = chunk instanceof Uint8Array ? chunk : new Uint8Array(chunk);
      const from = seen;
      seen += bytes.length;
      if (seen > expect.size) {
        console.log(`blob ${expect.hash} failed verification: more than ${expect.size} bytes`);
        throw new Error("blob failed verification");
      }
      hasher.update(bytes);
      const lo = Math.max(start, from);
      const hi = Math.min(end + 1, seen);
      if (lo < hi) {
        if (held) controller.enqueue(held);
        held = bytes.subarray(lo - from, hi - from);
      }
    },
    flush(controller) {
      const got = seen === expect.size ? hasher.hexDigest() : null;
      if (got !== expect.hash) {
        const why = got === null ? `${seen} bytes, not ${expect.size}` : `its bytes hash to ${got}`;
        console.log(`blob ${expect.hash} failed verification: ${why}`);
        controller.error(new Error("blob failed verification"));
        return;
      }
      if (held) controller.enqueue(held);
    },
  });
}

async function serveVersion(env, request, m, version, path) {
  const idx = await versionIndex(env, version);
  if (!idx) return text(502, "version index unavailable");
  let entry;
  try {
    entry = await lookup(env, version, idx, path);
    if (entry) return fileResponse(env, request, entry, 200);
    // Skew protection: fingerprinted assets of the previous and canary versions.
    if (FINGERPRINT.test(path.split("/").pop())) {
      const others = [...(m.previous || []), m.canary && m.canary.version, m.stable].filter((v) => v && v !== version);
      for (const other of others) {
        const oidx = await versionIndex(env, other);
        const e = oidx && (await entryOf(env, other, oidx, path));
        if (e) return fileResponse(env, request, e, 200);
      }
    }
    entry = await entryOf(env, version, idx, "/404.html");
  } catch (e) {
    console.log(`${e}`);
    return text(502, "version index unavailable");
  }
  if (entry) return fileResponse(env, request, entry, 404);
  return text(404, "not found");
}

export default {
  async fetch(request, env) {
    if (request.method !== "GET" && request.method !== "HEAD") {
      return text(405, "only GET and HEAD", { allow: "GET, HEAD" });
    }
    const url = new URL(request.url);
    const path = cleanPath(url.pathname);
    if (path === null) return text(400, "bad path");
    const m = await manifest(env);
    if (!m) return text(503, "no manifest for this channel yet");
    const routingCfg = m.routing || {};
    const cookieName = routingCfg.cookie || "sv_uid";
    const overrideHeader = routingCfg.override_header || "x-sitevault-version";
    let uid = cookie(request, cookieName);
    const newUid = !uid;
    if (newUid) uid = crypto.randomUUID();
    const override = request.headers.get(overrideHeader) || url.searchParams.get("sv-version");
    const version = decide(m, uid, override);
    if (!version) return text(503, "the channel has no version yet");
    const inner = await serveVersion(env, request, m, version, path);
    // Our own responses have mutable headers; a copy would lose `encodeBody`.
    const response = inner;
    response.headers.set("x-sitevault-version", version);
    if (newUid) {
      response.headers.append("set-cookie", `${cookieName}=${uid}; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly`);
    }
    return response;
  },
};
