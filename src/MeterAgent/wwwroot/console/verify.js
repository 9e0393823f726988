// MeterAgent console: verify a usage record's inclusion in the attested log, in the browser.
//
// The server is trusted for nothing but the log's published keys (/.well-known/meteragent/log-keys): the checkpoint's
// Ed25519 signature (C2SP signed-note), the RFC 9162 inclusion path from the record's entry to the checkpoint's root,
// the proof's tree size against the signed one, and the entry's usage id against the record asked about are all
// checked here with WebCrypto. A mirror of tests/attestation-check/*.mjs (node's crypto) and src/MeterAgent.Attestation
// (C#), written a third time so that a bug would have to be made three times.
//
// An ES module with no dependency, loaded as <script type="module" src="/console/assets/verify.js"> under
// `default-src 'none'; script-src 'self'; connect-src 'self'`: no inline script, no eval, same-origin fetches only.

/** A failed check: `code` is stable (tests and styles read it from data-verify-reason), `message` says what failed. */
export class VerifyError extends Error {
  constructor(code, message) {
    super(message);
    this.name = "VerifyError";
    this.code = code;
  }
}

const fail = (code, message) => {
  throw new VerifyError(code, message);
};

const utf8 = new TextEncoder();

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function equalBytes(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

export function toBase64(bytes) {
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += BASE64[(n >> 18) & 63] + BASE64[(n >> 12) & 63];
    out += i + 1 < bytes.length ? BASE64[(n >> 6) & 63] : "=";
    out += i + 2 < bytes.length ? BASE64[n & 63] : "=";
  }
  return out;
}

/**
 * Standard padded base64 (RFC 4648 §4) in its one canonical spelling, as the C# and Go readers take it: no white
 * space, no URL alphabet, zero padding bits. `length`, when given, is the exact byte count.
 */
export function fromBase64(text, what, length, code = "malformed") {
  if (typeof text !== "string" || text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) {
    fail(code, `${what} is not standard base64`);
  }
  const pad = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  const out = new Uint8Array((text.length / 4) * 3 - pad);
  let at = 0;
  for (let i = 0; i < text.length; i += 4) {
    let n = 0;
    for (let j = 0; j < 4; j++) {
      const c = text[i + j];
      n = (n << 6) | (c === "=" ? 0 : BASE64.indexOf(c));
    }
    const bytes = [(n >> 16) & 255, (n >> 8) & 255, n & 255];
    for (const b of bytes) if (at < out.length) out[at++] = b;
  }
  if (toBase64(out) !== text) fail(code, `${what} is not canonical base64`);
  if (length !== undefined && out.length !== length) fail(code, `${what} is ${out.length} bytes, not ${length}`);
  return out;
}

export async function sha256(...parts) {
  return new Uint8Array(await subtle().digest("SHA-256", concat(...parts)));
}

/** RFC 9162 §2.1.1: a leaf is SHA-256(0x00 ‖ entry), an interior node SHA-256(0x01 ‖ left ‖ right). */
export const leafHash = (entry) => sha256(Uint8Array.of(0), entry);
export const nodeHash = (left, right) => sha256(Uint8Array.of(1), left, right);

function subtle() {
  if (!globalThis.isSecureContext || !globalThis.crypto?.subtle) {
    fail("insecure-context",
      "this page is not a secure context (plain http on a host other than this machine), so the browser offers no WebCrypto; open the console over https or on localhost");
  }
  return globalThis.crypto.subtle;
}

// ---- C2SP signed-note and vkeys ----

/**
 * A published verifier key, `<name>+<hex8 key ID>+<base64(0x01 ‖ 32-byte Ed25519 key)>`, checked as the spec says: the
 * key ID must be the first 4 bytes of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ key).
 */
export async function parseVerifierKey(vkey) {
  if (typeof vkey !== "string") fail("bad-keys", "a published key is not a string");
  const first = vkey.indexOf("+");
  const second = vkey.indexOf("+", first + 1);
  if (first <= 0 || second < 0) fail("bad-keys", `published key ${JSON.stringify(vkey)} is not <name>+<hex8>+<base64>`);
  const name = vkey.slice(0, first);
  const idHex = vkey.slice(first + 1, second);
  if (!/^[0-9a-f]{8}$/.test(idHex)) fail("bad-keys", `published key ${name}: the key ID is not 8 hex digits`);
  const typed = fromBase64(vkey.slice(second + 1), `published key ${name}`, 33, "bad-keys");
  if (typed[0] !== 0x01) fail("bad-keys", `published key ${name} is not an Ed25519 note key (type ${typed[0]})`);
  const keyId = (await sha256(utf8.encode(name), Uint8Array.of(0x0a), typed)).subarray(0, 4);
  if (toHex(keyId) !== idHex) fail("bad-keys", `published key ${name}+${idHex}: the key ID does not match its name and key`);
  let key;
  try {
    key = await subtle().importKey("raw", typed.subarray(1), { name: "Ed25519" }, false, ["verify"]);
  } catch (error) {
    fail(error?.name === "NotSupportedError" ? "unsupported" : "bad-keys",
      error?.name === "NotSupportedError"
        ? "this browser's WebCrypto has no Ed25519"
        : `published key ${name}+${idHex} is not an Ed25519 public key`);
  }
  return { vkey, name, idHex, keyId, publicKey: typed.subarray(1), key };
}

/** The log-keys document, `{"origin","current","keys":[{"vkey","key_id","current"}]}`, its keys parsed and checked. */
export async function readLogKeys(json) {
  if (!json || typeof json !== "object" || typeof json.origin !== "string" || !Array.isArray(json.keys) || json.keys.length === 0) {
    fail("bad-keys", "the published log keys are not {origin, keys: [...]}");
  }
  const keys = [];
  for (const entry of json.keys) {
    const key = await parseVerifierKey(entry?.vkey);
    if (key.name !== json.origin) fail("bad-keys", `published key ${key.name}+${key.idHex} is not named after the log's origin ${json.origin}`);
    keys.push(key);
  }
  return { origin: json.origin, keys };
}

/**
 * Splits a signed note (c2sp.org/signed-note) into its text, the bytes the signatures cover (final newline included),
 * and its signature lines. Refuses what the spec refuses: not UTF-8, a control character, no blank line, a line
 * without the em dash, a key name with a space or '+', non-canonical base64, more than 100 signatures.
 */
export function parseSignedNote(note) {
  const bytes = typeof note === "string" ? utf8.encode(note) : note;
  let decoded;
  try {
    decoded = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    fail("malformed-note", "the checkpoint note is not UTF-8");
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0009\u000b-\u001f\u007f]/.test(decoded)) fail("malformed-note", "the checkpoint note holds a control character");
  const split = decoded.lastIndexOf("\n\n");
  if (split < 0) fail("malformed-note", "the checkpoint note has no blank line before its signatures");
  const text = decoded.slice(0, split + 1);
  const block = decoded.slice(split + 2);
  if (block.length === 0 || !block.endsWith("\n")) fail("malformed-note", "the checkpoint note's signature block is empty or lacks its final newline");
  const lines = block.slice(0, -1).split("\n");
  if (lines.length > 100) fail("malformed-note", "the checkpoint note has more than 100 signature lines");
  const signatures = lines.map((line) => {
    const match = /^\u2014 ([^\s+]+) ([A-Za-z0-9+/=]+)$/u.exec(line);
    if (!match) fail("malformed-note", `not a signature line: ${JSON.stringify(line)}`);
    const blob = fromBase64(match[2], `the signature of ${match[1]}`, undefined, "malformed-note");
    if (blob.length < 5) fail("malformed-note", `the signature of ${match[1]} is too short`);
    return { name: match[1], keyId: blob.subarray(0, 4), signature: blob.subarray(4) };
  });
  return { text, textBytes: utf8.encode(text), signatures };
}

/**
 * Opens a signed note with the published keys: a key is known by its name and key ID together; other keys' lines
 * (witness cosignatures) are ignored; a known key's signature that fails rejects the note; one must verify.
 */
export async function openSignedNote(note, keys) {
  const parsed = parseSignedNote(note);
  let signedBy = null;
  for (const line of parsed.signatures) {
    const key = keys.find((k) => k.name === line.name && equalBytes(k.keyId, line.keyId));
    if (!key) continue;
    const good = line.signature.length === 64
      && await subtle().verify({ name: "Ed25519" }, key.key, line.signature, parsed.textBytes);
    if (!good) fail("bad-signature", `the checkpoint's signature by ${key.name}+${key.idHex} does not verify: the checkpoint was altered or forged`);
    signedBy ??= key;
  }
  if (!signedBy) {
    const names = parsed.signatures.map((s) => `${s.name}+${toHex(s.keyId)}`).join(", ");
    fail("unknown-key", `the checkpoint is not signed by any of the log's published keys (signed by ${names})`);
  }
  return { text: parsed.text, signedBy, otherSignatures: parsed.signatures.length - 1 };
}

/** A c2sp.org/tlog-checkpoint body: origin, decimal size (no sign, no leading zero), base64 32-byte root, extensions. */
export function parseCheckpoint(text) {
  if (!text.endsWith("\n")) fail("malformed-checkpoint", "the checkpoint does not end in a newline");
  const lines = text.slice(0, -1).split("\n");
  if (lines.length < 3) fail("malformed-checkpoint", "a checkpoint has an origin, a tree size and a root hash");
  if (lines.some((l) => l.length === 0)) fail("malformed-checkpoint", "the checkpoint has an empty line");
  if (!/^(0|[1-9][0-9]*)$/.test(lines[1])) fail("malformed-checkpoint", "line 2 of the checkpoint is not a tree size");
  const size = BigInt(lines[1]);
  if (size > 0x7fffffffffffffffn) fail("malformed-checkpoint", "the checkpoint's tree size is beyond 2^63-1");
  const root = fromBase64(lines[2], "the checkpoint's root hash", 32, "malformed-checkpoint");
  return { origin: lines[0], size, root, extensions: lines.slice(3) };
}

// ---- RFC 9162 inclusion ----

/**
 * RFC 9162 §2.1.3.2 with BigInt sizes: null when `path` leads from `leaf` at `index` to `root` of a tree of `size`,
 * else why not.
 */
export async function verifyInclusion(index, size, leaf, path, root) {
  if (index < 0n || index >= size) return `the leaf index ${index} is not below the tree size ${size}`;
  let fn = index;
  let sn = size - 1n;
  let r = leaf;
  for (const p of path) {
    if (sn === 0n) return "the path is longer than the tree is deep";
    if ((fn & 1n) === 1n || fn === sn) {
      r = await nodeHash(p, r);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) return "the path is shorter than the tree is deep";
  return equalBytes(r, root) ? null : "the path from this record's entry does not lead to the checkpoint's root hash";
}

// ---- Entries (docs/attestation.md, "Entries"; UsageEntryEncoding version 1) ----

/** Decodes an entry as the server encodes it; integers are BigInt. Throws VerifyError("malformed-entry") on a bad one. */
export function decodeEntry(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const take = (n) => {
    if (bytes.length - at < n) fail("malformed-entry", `the entry ends at offset ${bytes.length}, inside a field that needs ${n} bytes at ${at}`);
    at += n;
    return at - n;
  };
  const byte = () => bytes[take(1)];
  const bool = () => {
    const b = byte();
    if (b > 1) fail("malformed-entry", `byte ${b} at offset ${at - 1} is not a boolean`);
    return b === 1;
  };
  const string = () => {
    const n = view.getUint16(take(2));
    const start = take(n);
    try {
      return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes.subarray(start, start + n));
    } catch {
      return fail("malformed-entry", `the string at offset ${start} is not UTF-8`);
    }
  };
  const int64 = () => view.getBigInt64(take(8));
  const int32 = () => view.getInt32(take(4));
  const opt = (read) => (bool() ? read() : null);

  const version = byte();
  if (version !== 1) fail("malformed-entry", `entry version ${version} is not 1`);
  const entry = {
    usageId: string(),
    accountId: string(),
    surface: string(),
    requestedModel: opt(string),
    servedModel: opt(string),
    startedAtMicros: int64(),
    endedAtMicros: int64(),
    status: string(),
    nativeInputTokens: opt(int64),
    nativeCachedInputTokens: opt(int64),
    nativeCacheWriteTokens: opt(int64),
    nativeOutputTokens: opt(int64),
    nativeReasoningTokens: opt(int64),
    referenceInputTokens: int64(),
    referenceOutputTokens: int64(),
    referenceTokenizer: opt(string),
    contractId: opt(string),
    contractVersion: opt(int32),
    unitsMicro: opt(int64),
    redeemedMicro: int64(),
    overageMicro: int64(),
    unitsBasis: opt(string),
    flags: string(),
    nonTextInput: bool(),
  };
  if (at !== bytes.length) fail("malformed-entry", `${bytes.length - at} bytes after the entry's last field`);
  return entry;
}

/** Micro-units as a decimal: 1500000n → "1.5". */
export function formatMicro(micro) {
  const negative = micro < 0n;
  const abs = negative ? -micro : micro;
  const fraction = (abs % 1000000n).toString().padStart(6, "0").replace(/0+$/, "");
  return `${negative ? "-" : ""}${abs / 1000000n}${fraction ? "." + fraction : ""}`;
}

/** The entry's figures in one line, for the person checking their bill. */
export function describeEntry(e) {
  const parts = [`model ${e.servedModel ?? e.requestedModel ?? "(none)"}`, `status ${e.status}`];
  parts.push(`reference tokens ${e.referenceInputTokens} in / ${e.referenceOutputTokens} out`);
  if (e.nativeInputTokens !== null || e.nativeOutputTokens !== null) {
    parts.push(`native tokens ${e.nativeInputTokens ?? "?"} in / ${e.nativeOutputTokens ?? "?"} out`);
  }
  if (e.unitsMicro !== null) parts.push(`units ${formatMicro(e.unitsMicro)}`);
  parts.push(`redeemed ${formatMicro(e.redeemedMicro)}`);
  if (e.overageMicro !== 0n) parts.push(`overage ${formatMicro(e.overageMicro)}`);
  if (e.contractId !== null) parts.push(`contract ${e.contractId}`);
  parts.push(`started ${new Date(Number(e.startedAtMicros / 1000n)).toISOString()}`);
  return parts.join(", ");
}

// ---- DSSE statements ----

/**
 * A DSSE envelope (in-toto Statement v1) signed with one of the log's keys, whose `keyid` is the key's vkey: the
 * signature covers PAE(type, payload). Returns the statement; throws VerifyError otherwise.
 */
export async function verifyDsse(envelopeText, keys) {
  let envelope;
  try {
    envelope = JSON.parse(envelopeText);
  } catch {
    fail("malformed-statement", "the statement envelope is not JSON");
  }
  const type = "application/vnd.in-toto+json";
  if (envelope?.payloadType !== type || typeof envelope.payload !== "string" || !Array.isArray(envelope.signatures)) {
    fail("malformed-statement", "the statement is not a DSSE envelope of an in-toto statement");
  }
  const payload = fromBase64(envelope.payload, "the statement's payload", undefined, "malformed-statement");
  const typeBytes = utf8.encode(type);
  const pae = concat(utf8.encode(`DSSEv1 ${typeBytes.length} ${type} ${payload.length} `), payload);
  let signedBy = null;
  for (const s of envelope.signatures) {
    const key = keys.find((k) => k.vkey === s?.keyid);
    if (!key) continue;
    const sig = fromBase64(s.sig, "the statement's signature", undefined, "malformed-statement");
    if (sig.length !== 64 || !await subtle().verify({ name: "Ed25519" }, key.key, sig, pae)) {
      fail("bad-statement-signature", `the statement's signature by ${key.name}+${key.idHex} does not verify`);
    }
    signedBy ??= key;
  }
  if (!signedBy) fail("unknown-key", "the statement is not signed by any of the log's published keys");
  let statement;
  try {
    statement = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(payload));
  } catch {
    fail("malformed-statement", "the statement's payload is not JSON");
  }
  if (statement?._type !== "https://in-toto.io/Statement/v1") fail("malformed-statement", "the payload is not an in-toto Statement v1");
  const predicate = statement.predicate ?? {};
  if (statement.subject?.[0]?.name !== `${predicate.log_origin}/tree/${predicate.tree_size}`) {
    fail("malformed-statement", "the statement's subject does not name its predicate's tree");
  }
  const root = fromBase64(predicate.root_hash, "the statement's root hash", 32, "malformed-statement");
  if (statement.subject[0].digest?.sha256 !== toHex(root)) fail("malformed-statement", "the statement's subject digest is not its root hash");
  return { statement, predicate, signedBy, digest: toHex(await sha256(utf8.encode(envelopeText))) };
}

// ---- The proof ----

/**
 * Parses the proof JSON, keeping `leaf_index` and `tree_size` exact as BigInt (JSON.parse's source text where the
 * browser gives it; otherwise only safe integers are taken).
 */
export function parseProofJson(text) {
  let proof;
  try {
    proof = JSON.parse(text, (key, value, context) => {
      if ((key === "leaf_index" || key === "tree_size") && typeof value === "number") {
        const source = context?.source;
        if (typeof source === "string" && /^(0|[1-9][0-9]*)$/.test(source)) return BigInt(source);
        if (Number.isSafeInteger(value) && value >= 0) return BigInt(value);
        fail("malformed-json", `${key} is not a non-negative integer`);
      }
      return value;
    });
  } catch (error) {
    if (error instanceof VerifyError) throw error;
    fail("malformed-json", "the proof is not JSON");
  }
  if (!proof || typeof proof !== "object") fail("malformed-json", "the proof is not a JSON object");
  for (const [name, kind] of [["usage_id", "string"], ["leaf_index", "bigint"], ["tree_size", "bigint"], ["entry", "string"], ["checkpoint", "string"]]) {
    if (typeof proof[name] !== kind) fail("malformed-json", `the proof's ${name} is missing or not a ${kind === "bigint" ? "non-negative integer" : kind}`);
  }
  if (!Array.isArray(proof.hashes)) fail("malformed-json", "the proof's hashes is not an array");
  if (proof.statements !== undefined && proof.statements !== null && !Array.isArray(proof.statements)) {
    fail("malformed-json", "the proof's statements is not an array");
  }
  return proof;
}

/**
 * Verifies one record's proof: the checkpoint signed by a published key of the log's origin, the proof's tree size
 * that checkpoint's, the entry this record's, and the path from the entry's leaf to the checkpoint's root.
 */
export async function verifyRecordProof(proofText, logKeysJson, usageId) {
  subtle();
  const { origin, keys } = await readLogKeys(logKeysJson);
  const proof = parseProofJson(proofText);

  const opened = await openSignedNote(proof.checkpoint, keys);
  const checkpoint = parseCheckpoint(opened.text);
  if (checkpoint.origin !== origin) fail("wrong-log", `the checkpoint is of log ${checkpoint.origin}, not ${origin}`);
  if (proof.tree_size !== checkpoint.size) {
    fail("tree-size-mismatch", `the proof is for a tree of size ${proof.tree_size}, the signed checkpoint's size is ${checkpoint.size}`);
  }

  const entryBytes = fromBase64(proof.entry, "the proof's entry", undefined, "malformed-json");
  const path = proof.hashes.map((h, i) => fromBase64(h, `the proof's hashes[${i}]`, 32, "malformed-json"));
  const entry = decodeEntry(entryBytes);
  if (entry.usageId !== usageId || proof.usage_id !== usageId) {
    fail("wrong-record", `the proof is of record ${entry.usageId}, not of ${usageId}`);
  }

  const problem = await verifyInclusion(proof.leaf_index, checkpoint.size, await leafHash(entryBytes), path, checkpoint.root);
  if (problem) fail("root-mismatch", `leaf ${proof.leaf_index} at size ${checkpoint.size}: ${problem}`);

  const statements = [];
  for (const s of proof.statements ?? []) {
    if (typeof s?.envelope === "string") {
      // An envelope, when the proof carries one, is checked with the same keys: signature, tree, and this leaf counted.
      const checked = await verifyDsse(s.envelope, keys);
      if (!checked.predicate.leaves?.includes(Number(proof.leaf_index))) {
        fail("wrong-statement", `statement ${checked.predicate.sequence} does not count leaf ${proof.leaf_index}`);
      }
      statements.push({ sequence: checked.predicate.sequence, contract: checked.predicate.contract_id, signed: true });
    } else if (s && typeof s === "object") {
      statements.push({ sequence: s.sequence, contract: s.contract_id, interval: [s.interval_start, s.interval_end], signed: false });
    }
  }

  return { usageId, leafIndex: proof.leaf_index, treeSize: checkpoint.size, origin, key: opened.signedBy, entry, statements };
}

/** The sentence the output shows for a verified record. */
export function describeVerified(result) {
  const parts = [
    `Verified: record ${result.usageId} is leaf ${result.leafIndex} of ${result.origin} at tree size ${result.treeSize}`,
    `in a checkpoint signed by ${result.key.name}+${result.key.idHex}`,
  ];
  let sentence = parts.join(", ") + `. Its entry: ${describeEntry(result.entry)}.`;
  if (result.statements.length === 0) {
    sentence += " No statement has counted it yet.";
  } else {
    for (const s of result.statements) {
      sentence += s.signed
        ? ` Counted by statement ${s.sequence} (contract ${s.contract}), its signature checked.`
        : ` Counted by statement ${s.sequence} (contract ${s.contract}, ${s.interval[0]} to ${s.interval[1]}), as the server reports it (the statement's envelope is not part of this proof).`;
    }
  }
  return sentence;
}

// ---- The page binding (docs: the console's URL contract, "The Verify markup") ----

async function fetchText(url, what) {
  let response;
  try {
    response = await fetch(url, { credentials: "same-origin", headers: { accept: "application/json" }, cache: "no-store" });
  } catch {
    fail("network", `could not fetch the ${what} (network error)`);
  }
  if (!response.ok) fail("network", `the ${what} answered HTTP ${response.status}`);
  return response.text();
}

function sameOrigin(url) {
  const resolved = new URL(url, document.baseURI);
  if (resolved.origin !== location.origin) fail("network", `${url} is not on this site: only this site's proofs are fetched`);
  return resolved.href;
}

/** Verifies the record of one Verify button and writes the outcome into its output element. */
export async function verifyButton(button) {
  const output = document.getElementById(button.dataset.verifyOutput ?? "");
  if (!output) return;
  output.dataset.verifyState = "working";
  delete output.dataset.verifyReason;
  output.textContent = "Verifying…";
  button.disabled = true;
  try {
    subtle();
    const keysUrl = document.querySelector('meta[name="meteragent-log-keys"]')?.content;
    if (!keysUrl) fail("bad-keys", "the page does not say where the log's keys are");
    const [proofText, keysText] = await Promise.all([
      fetchText(sameOrigin(button.dataset.verifyProof ?? ""), "proof"),
      fetchText(sameOrigin(keysUrl), "log's keys"),
    ]);
    let keys;
    try {
      keys = JSON.parse(keysText);
    } catch {
      fail("bad-keys", "the published log keys are not JSON");
    }
    const result = await verifyRecordProof(proofText, keys, button.dataset.verifyUsage ?? "");
    output.textContent = describeVerified(result);
    output.dataset.verifyState = "verified";
  } catch (error) {
    const reason = error instanceof VerifyError ? error : new VerifyError("error", `the check could not run (${error?.name ?? "error"})`);
    output.textContent = `Not verified: ${reason.message}`;
    output.dataset.verifyReason = reason.code;
    output.dataset.verifyState = "failed";
  } finally {
    button.disabled = false;
  }
}

/** Wires every Verify button of the page (one listener on the document, so rows added later work too). */
export function bind(root = document) {
  root.addEventListener("click", (event) => {
    const button = event.target instanceof Element ? event.target.closest("button[data-verify-proof]") : null;
    if (button) verifyButton(button);
  });
}

if (typeof document !== "undefined") bind();
