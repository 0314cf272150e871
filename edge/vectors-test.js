// Runs the routing vectors inside workerd: GET / answers {"passed": n, "failed": [...]}.
import { fnv1a32, bucket, decide, negotiate } from "./worker.js";
import vectors from "./routing-vectors.json";
import encodings from "./encoding-vectors.json";

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
    for (const c of encodings.cases) {
      const enc = {};
      for (const a of c.available) enc[a] = { hash: "h", size: 1 };
      const got = negotiate(c.accept, enc);
      if (got === c.want) passed++;
      else failed.push({ vector: c, got });
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
