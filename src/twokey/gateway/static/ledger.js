// Verifies, in the browser, that a ledger entry is in the log (RFC 6962 / RFC 9162 §2.1.3.2).
// The server sends the entry's exact bytes, the inclusion proof and the root it claims; this
// script recomputes the leaf hash SHA-256(0x00 || entry), folds the proof's node hashes
// SHA-256(0x01 || left || right) up to a root, and says whether it equals the stated root.
"use strict";

(function () {
  const data = document.getElementById("proof-data");
  const out = document.getElementById("proof-result");
  if (!data || !out) return;

  function show(state, text) {
    out.dataset.state = state;
    out.textContent = text;
  }

  function bytesOf(b64) {
    const raw = atob(b64);
    const bytes = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  function fromHex(hex) {
    if (!/^([0-9a-f]{2})*$/.test(hex)) throw new Error("not hex: " + hex);
    const bytes = new Uint8Array(hex.length / 2);
    for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.substr(i * 2, 2), 16);
    return bytes;
  }

  function toHex(bytes) {
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  async function sha256(prefix, ...parts) {
    let length = 1;
    for (const p of parts) length += p.length;
    const buf = new Uint8Array(length);
    buf[0] = prefix;
    let at = 1;
    for (const p of parts) { buf.set(p, at); at += p.length; }
    return new Uint8Array(await crypto.subtle.digest("SHA-256", buf));
  }

  // RFC 9162 §2.1.3.2: verifying an inclusion proof.
  async function rootFrom(index, size, leaf, proof) {
    if (index >= size) throw new Error("index beyond the tree");
    let fn = index, sn = size - 1;
    let r = leaf;
    for (const p of proof) {
      if (sn === 0) throw new Error("proof too long");
      if ((fn & 1) === 1 || fn === sn) {
        r = await sha256(1, p, r);
        if ((fn & 1) === 0) {
          while ((fn & 1) === 0 && fn !== 0) { fn >>= 1; sn >>= 1; }
        }
      } else {
        r = await sha256(1, r, p);
      }
      fn >>= 1; sn >>= 1;
    }
    if (sn !== 0) throw new Error("proof too short");
    return r;
  }

  async function verify() {
    if (!window.crypto || !crypto.subtle) {
      show("failed", "Not verified: this browser offers no Web Crypto (SubtleCrypto) here.");
      return;
    }
    const p = JSON.parse(data.textContent);
    const leaf = await sha256(0, bytesOf(p.leaf));
    const root = await rootFrom(p.index, p.size, leaf, p.proof.map(fromHex));
    const what = p.signed ? "the signed checkpoint" : "the current tree head";
    if (toHex(root) === p.root) {
      show("verified", "Verified: entry " + p.index + " is in the log of " + p.size +
        " entries; the root computed here equals " + what + "'s root " + p.root.slice(0, 16) + "…");
    } else {
      show("failed", "FAILED: the proof gives root " + toHex(root).slice(0, 16) +
        "…, not " + what + "'s root " + p.root.slice(0, 16) + "…");
    }
  }

  verify().catch((err) => show("failed", "FAILED: " + err.message));
})();
