// Runs the routing, negotiation and BLAKE3 vectors inside workerd: GET / answers
// {"passed": n, "failed": [...]}.
import { fnv1a32, bucket, decide, negotiate, shardKey } from "./worker.js";
import { Blake3, blake3Hex } from "./blake3.js";
import vectors from "./routing-vectors.json";
import encodings from "./encoding-vectors.json";
import hashes from "./blake3-vectors.json";

export default {
  async fetch() {
    const failed = [];
    let passed = 0;
    for (const b of vectors.buckets) {
      const h = fnv1a32(b.salt + ":" + b.uid);
      const k = bucket(b.salt, b.uid);
      if (h === b.fnv1a32 && k === b.bucket) passed++;
      else failed.push({ vector: b, fnv1a32: h, bucket: k });
    }
    for (const r of vectors.routes) {
      const m = { stable: r.stable, canary: r.canary ? { version: r.canary, percent: r.percent } : null };
      const got = decide(m, r.uid, null);
      if (got === r.expect) passed++;
      else failed.push({ vector: r, got });
    }
    for (const c of vectors.shard_keys) {
      const key = shardKey(c.path);
      const shard = fnv1a32(key) % 8;
      if (key === c.key && shard === c.shard_of_8) passed++;
      else failed.push({ vector: c, key, shard });
    }
    for (const c of encodings.cases) {
      const enc = {};
      for (const a of c.available) enc[a] = { hash: "h", size: 1 };
      const got = negotiate(c.accept, enc);
      if (got === c.want) passed++;
      else failed.push({ vector: c, got });
    }
    // BLAKE3: each official input (bytes i % 251) whole, in pieces of odd sizes (the
    // incremental hasher across block and chunk boundaries), and from an unaligned offset.
    for (const c of hashes.cases) {
      const input = new Uint8Array(c.input_len);
      for (let i = 0; i < input.length; i++) input[i] = i % 251;
      const got = { whole: blake3Hex(input) };
      for (const step of [1, 63, 64, 65, 1000, 1023, 1024, 1025, 4096]) {
        const h = new Blake3();
        for (let i = 0; i < input.length; i += step) h.update(input.subarray(i, i + step));
        got[`pieces of ${step}`] = h.hexDigest();
      }
      const shifted = new Uint8Array(input.length + 1);
      shifted.set(input, 1);
      got.unaligned = blake3Hex(shifted.subarray(1));
      for (const [how, hash] of Object.entries(got)) {
        if (hash === c.hash) passed++;
        else failed.push({ blake3: c.input_len, how, hash, want: c.hash });
      }
    }
    let hits = 0;
    for (let i = 0; i < 20000; i++) if (bucket("v1.4.0", String(i)) < 1000) hits++;
    const share = hits / 20000;
    const want = vectors.share_at_10_percent_of_20000_sequential_ids;
    if (Math.abs(share - want) < 0.02) passed++;
    else failed.push({ share, want });
    return Response.json({ passed, failed, runtime: typeof navigator !== "undefined" ? navigator.userAgent : "unknown" });
  },
};
