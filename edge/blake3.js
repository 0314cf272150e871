// BLAKE3 (hash mode, 32-byte output) in plain JavaScript, for the edge worker: the
// Workers runtime has no blake3 (crypto.subtle offers only SHA digests), and the
// store names every blob by the blake3 of its bytes. Incremental, so a large blob can
// be hashed while it streams:
//
//   const h = new Blake3();
//   h.update(bytes);            // any number of times, any sizes
//   h.hexDigest();              // 64 lowercase hex digits, as in the store's keys
//
// or `blake3Hex(bytes)`. Checked against the official test vectors
// (`blake3-vectors.json`, run inside workerd by `vectors-test.js`).

const IV0 = 0x6a09e667;
const IV1 = 0xbb67ae85;
const IV2 = 0x3c6ef372;
const IV3 = 0xa54ff53a;
const IV = new Uint32Array([IV0, IV1, IV2, IV3, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);

const CHUNK_START = 1;
const CHUNK_END = 2;
const PARENT = 4;
const ROOT = 8;
const BLOCK_LEN = 64;
const CHUNK_LEN = 1024;

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * The compression function: `cv` (8 words at `cvOff`), a block of 16 words (`m` at
 * `mOff`), the 64-bit counter as two halves, the block's length and flags. Writes the
 * 8-word chaining value (the first 32 bytes of the output) to `out` at `outOff`.
 */
function compress(cv, cvOff, m, mOff, counterLo, counterHi, blockLen, flags, out, outOff) {
  let s0 = cv[cvOff] | 0;
  let s1 = cv[cvOff + 1] | 0;
  let s2 = cv[cvOff + 2] | 0;
  let s3 = cv[cvOff + 3] | 0;
  let s4 = cv[cvOff + 4] | 0;
  let s5 = cv[cvOff + 5] | 0;
  let s6 = cv[cvOff + 6] | 0;
  let s7 = cv[cvOff + 7] | 0;
  let s8 = IV0 | 0;
  let s9 = IV1 | 0;
  let s10 = IV2 | 0;
  let s11 = IV3 | 0;
  let s12 = counterLo | 0;
  let s13 = counterHi | 0;
  let s14 = blockLen | 0;
  let s15 = flags | 0;
  let m0 = m[mOff] | 0;
  let m1 = m[mOff + 1] | 0;
  let m2 = m[mOff + 2] | 0;
  let m3 = m[mOff + 3] | 0;
  let m4 = m[mOff + 4] | 0;
  let m5 = m[mOff + 5] | 0;
  let m6 = m[mOff + 6] | 0;
  let m7 = m[mOff + 7] | 0;
  let m8 = m[mOff + 8] | 0;
  let m9 = m[mOff + 9] | 0;
  let m10 = m[mOff + 10] | 0;
  let m11 = m[mOff + 11] | 0;
  let m12 = m[mOff + 12] | 0;
  let m13 = m[mOff + 13] | 0;
  let m14 = m[mOff + 14] | 0;
  let m15 = m[mOff + 15] | 0;
  for (let round = 0; ; round++) {
    // Columns, then diagonals (G inlined).
    s0 = (s0 + s4 + m0) | 0; s12 ^= s0; s12 = (s12 >>> 16) | (s12 << 16);
    s8 = (s8 + s12) | 0; s4 ^= s8; s4 = (s4 >>> 12) | (s4 << 20);
    s0 = (s0 + s4 + m1) | 0; s12 ^= s0; s12 = (s12 >>> 8) | (s12 << 24);
    s8 = (s8 + s12) | 0; s4 ^= s8; s4 = (s4 >>> 7) | (s4 << 25);
    s1 = (s1 + s5 + m2) | 0; s13 ^= s1; s13 = (s13 >>> 16) | (s13 << 16);
    s9 = (s9 + s13) | 0; s5 ^= s9; s5 = (s5 >>> 12) | (s5 << 20);
    s1 = (s1 + s5 + m3) | 0; s13 ^= s1; s13 = (s13 >>> 8) | (s13 << 24);
    s9 = (s9 + s13) | 0; s5 ^= s9; s5 = (s5 >>> 7) | (s5 << 25);
    s2 = (s2 + s6 + m4) | 0; s14 ^= s2; s14 = (s14 >>> 16) | (s14 << 16);
    s10 = (s10 + s14) | 0; s6 ^= s10; s6 = (s6 >>> 12) | (s6 << 20);
    s2 = (s2 + s6 + m5) | 0; s14 ^= s2; s14 = (s14 >>> 8) | (s14 << 24);
    s10 = (s10 + s14) | 0; s6 ^= s10; s6 = (s6 >>> 7) | (s6 << 25);
    s3 = (s3 + s7 + m6) | 0; s15 ^= s3; s15 = (s15 >>> 16) | (s15 << 16);
    s11 = (s11 + s15) | 0; s7 ^= s11; s7 = (s7 >>> 12) | (s7 << 20);
    s3 = (s3 + s7 + m7) | 0; s15 ^= s3; s15 = (s15 >>> 8) | (s15 << 24);
    s11 = (s11 + s15) | 0; s7 ^= s11; s7 = (s7 >>> 7) | (s7 << 25);
    s0 = (s0 + s5 + m8) | 0; s15 ^= s0; s15 = (s15 >>> 16) | (s15 << 16);
    s10 = (s10 + s15) | 0; s5 ^= s10; s5 = (s5 >>> 12) | (s5 << 20);
    s0 = (s0 + s5 + m9) | 0; s15 ^= s0; s15 = (s15 >>> 8) | (s15 << 24);
    s10 = (s10 + s15) | 0; s5 ^= s10; s5 = (s5 >>> 7) | (s5 << 25);
    s1 = (s1 + s6 + m10) | 0; s12 ^= s1; s12 = (s12 >>> 16) | (s12 << 16);
    s11 = (s11 + s12) | 0; s6 ^= s11; s6 = (s6 >>> 12) | (s6 << 20);
    s1 = (s1 + s6 + m11) | 0; s12 ^= s1; s12 = (s12 >>> 8) | (s12 << 24);
    s11 = (s11 + s12) | 0; s6 ^= s11; s6 = (s6 >>> 7) | (s6 << 25);
    s2 = (s2 + s7 + m12) | 0; s13 ^= s2; s13 = (s13 >>> 16) | (s13 << 16);
    s8 = (s8 + s13) | 0; s7 ^= s8; s7 = (s7 >>> 12) | (s7 << 20);
    s2 = (s2 + s7 + m13) | 0; s13 ^= s2; s13 = (s13 >>> 8) | (s13 << 24);
    s8 = (s8 + s13) | 0; s7 ^= s8; s7 = (s7 >>> 7) | (s7 << 25);
    s3 = (s3 + s4 + m14) | 0; s14 ^= s3; s14 = (s14 >>> 16) | (s14 << 16);
    s9 = (s9 + s14) | 0; s4 ^= s9; s4 = (s4 >>> 12) | (s4 << 20);
    s3 = (s3 + s4 + m15) | 0; s14 ^= s3; s14 = (s14 >>> 8) | (s14 << 24);
    s9 = (s9 + s14) | 0; s4 ^= s9; s4 = (s4 >>> 7) | (s4 << 25);
    if (round === 6) break;
    // The message permutation (2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8).
    const t0 = m0;
    const t1 = m1;
    const t4 = m4;
    const t5 = m5;
    const t8 = m8;
    const t9 = m9;
    const t12 = m12;
    m0 = m2;
    m2 = m3;
    m3 = m10;
    m10 = t12;
    m12 = t9;
    m9 = m11;
    m11 = t5;
    m5 = t0;
    m1 = m6;
    m6 = t4;
    m4 = m7;
    m7 = m13;
    m13 = m14;
    m14 = m15;
    m15 = t8;
    m8 = t1;
  }
  out[outOff] = s0 ^ s8;
  out[outOff + 1] = s1 ^ s9;
  out[outOff + 2] = s2 ^ s10;
  out[outOff + 3] = s3 ^ s11;
  out[outOff + 4] = s4 ^ s12;
  out[outOff + 5] = s5 ^ s13;
  out[outOff + 6] = s6 ^ s14;
  out[outOff + 7] = s7 ^ s15;
}

/** Reads 16 little-endian words of `bytes` at `off` into `dst`. */
function loadBlock(bytes, off, dst) {
  for (let i = 0; i < 16; i++, off += 4) {
    dst[i] = bytes[off] | (bytes[off + 1] << 8) | (bytes[off + 2] << 16) | (bytes[off + 3] << 24);
  }
}

const TWO_32 = 0x100000000;

/** An incremental BLAKE3 hasher (hash mode, no key). */
export class Blake3 {
  constructor() {
    // The current chunk: its chaining value, counter, blocks compressed, and the
    // block not yet compressed (the last block of a chunk is compressed only once it
    // is known whether it ends the input: then it is the root).
    this.cv = new Uint32Array(IV);
    this.chunk = 0;
    this.blocks = 0;
    this.buf = new Uint8Array(BLOCK_LEN);
    this.bufLen = 0;
    // Chaining values of completed subtrees, one per set bit of the chunk count.
    this.stack = new Uint32Array(54 * 8);
    this.depth = 0;
    this.words = new Uint32Array(16);
    this.parent = new Uint32Array(16);
  }

  /** Hashes `input` (a Uint8Array, or an ArrayBuffer) after what came before. */
  update(input) {
    const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
    const len = bytes.length;
    const words = this.words;
    let pos = 0;
    // Whole-word views of the input, when it is aligned: blocks read without copying.
    let view = null;
    let viewShift = 0;
    while (pos < len) {
      if (this.blocks * BLOCK_LEN + this.bufLen === CHUNK_LEN) {
        // A full chunk and more input: the chunk is not the last one.
        compress(this.cv, 0, this.wordsOf(this.buf, 0), 0, this.chunk % TWO_32, (this.chunk / TWO_32) | 0, BLOCK_LEN, CHUNK_END, this.cv, 0);
        this.pushChunk(this.cv, 0);
        this.cv.set(IV);
        this.blocks = 0;
        this.bufLen = 0;
      }
      if (this.bufLen === 0 && len - pos > BLOCK_LEN) {
        // Whole blocks straight from the input, all but one that could end the chunk
        // and the input.
        if (view === null && LITTLE_ENDIAN && (bytes.byteOffset + pos) % 4 === 0) {
          view = new Uint32Array(bytes.buffer, bytes.byteOffset + pos, ((len - pos) / 4) | 0);
          viewShift = pos;
        }
        const lo = this.chunk % TWO_32;
        const hi = (this.chunk / TWO_32) | 0;
        while (len - pos > BLOCK_LEN && this.blocks < 15) {
          const flags = this.blocks === 0 ? CHUNK_START : 0;
          if (view !== null && (pos - viewShift) % 4 === 0) {
            compress(this.cv, 0, view, (pos - viewShift) >> 2, lo, hi, BLOCK_LEN, flags, this.cv, 0);
          } else {
            loadBlock(bytes, pos, words);
            compress(this.cv, 0, words, 0, lo, hi, BLOCK_LEN, flags, this.cv, 0);
          }
          this.blocks++;
          pos += BLOCK_LEN;
        }
        if (len - pos > BLOCK_LEN && this.blocks === 15) {
          // The chunk's last block, and more input follows: the chunk ends here.
          if (view !== null && (pos - viewShift) % 4 === 0) {
            compress(this.cv, 0, view, (pos - viewShift) >> 2, lo, hi, BLOCK_LEN, CHUNK_END, this.cv, 0);
          } else {
            loadBlock(bytes, pos, words);
            compress(this.cv, 0, words, 0, lo, hi, BLOCK_LEN, CHUNK_END, this.cv, 0);
          }
          pos += BLOCK_LEN;
          this.pushChunk(this.cv, 0);
          this.cv.set(IV);
          this.blocks = 0;
          continue;
        }
        if (pos >= len) break;
      }
      if (this.bufLen === BLOCK_LEN) {
        // A full buffered block, more input, and not the chunk's last block.
        compress(this.cv, 0, this.wordsOf(this.buf, 0), 0, this.chunk % TWO_32, (this.chunk / TWO_32) | 0, BLOCK_LEN, this.blocks === 0 ? CHUNK_START : 0, this.cv, 0);
        this.blocks++;
        this.bufLen = 0;
      }
      const take = Math.min(BLOCK_LEN - this.bufLen, len - pos);
      this.buf.set(bytes.subarray(pos, pos + take), this.bufLen);
      this.bufLen += take;
      pos += take;
    }
    return this;
  }

  wordsOf(bytes, off) {
    loadBlock(bytes, off, this.words);
    return this.words;
  }

  /** Adds the chaining value of the chunk just completed, merging finished subtrees. */
  pushChunk(cv, off) {
    const stack = this.stack;
    const parent = this.parent;
    parent.set(cv.subarray(off, off + 8), 8);
    this.chunk++;
    // Each trailing zero bit of the chunk count completes one subtree.
    for (let total = this.chunk; total % 2 === 0; total /= 2) {
      this.depth--;
      parent.set(stack.subarray(this.depth * 8, this.depth * 8 + 8), 0);
      compress(IV, 0, parent, 0, 0, 0, BLOCK_LEN, PARENT, parent, 8);
    }
    stack.set(parent.subarray(8, 16), this.depth * 8);
    this.depth++;
  }

  /** The 32-byte hash of everything so far (the hasher may go on being updated). */
  digest() {
    const block = new Uint8Array(BLOCK_LEN);
    block.set(this.buf.subarray(0, this.bufLen));
    const m = new Uint32Array(16);
    loadBlock(block, 0, m);
    const out = new Uint32Array(8);
    const flags = CHUNK_END | (this.blocks === 0 ? CHUNK_START : 0);
    if (this.depth === 0) {
      compress(this.cv, 0, m, 0, 0, 0, this.bufLen, flags | ROOT, out, 0);
    } else {
      const parent = new Uint32Array(16);
      compress(this.cv, 0, m, 0, this.chunk % TWO_32, (this.chunk / TWO_32) | 0, this.bufLen, flags, parent, 8);
      for (let d = this.depth - 1; d >= 0; d--) {
        parent.set(this.stack.subarray(d * 8, d * 8 + 8), 0);
        if (d === 0) compress(IV, 0, parent, 0, 0, 0, BLOCK_LEN, PARENT | ROOT, out, 0);
        else compress(IV, 0, parent, 0, 0, 0, BLOCK_LEN, PARENT, parent, 8);
      }
    }
    const bytes = new Uint8Array(32);
    for (let i = 0; i < 8; i++) {
      bytes[4 * i] = out[i];
      bytes[4 * i + 1] = out[i] >>> 8;
      bytes[4 * i + 2] = out[i] >>> 16;
      bytes[4 * i + 3] = out[i] >>> 24;
    }
    return bytes;
  }

  /** The hash as 64 lowercase hex digits (how the store names blobs). */
  hexDigest() {
    let s = "";
    for (const b of this.digest()) s += (b < 16 ? "0" : "") + b.toString(16);
    return s;
  }
}

/** The blake3 of `bytes`, as 64 lowercase hex digits. */
export function blake3Hex(bytes) {
  return new Blake3().update(bytes).hexDigest();
}
