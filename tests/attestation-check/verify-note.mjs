// An independent check of MeterAgent's signed notes, written from the specs (c2sp.org/signed-note,
// RFC 8032) with nothing but node's built-in crypto, so a bug shared with the C# code would have to be
// made twice. Usage: node verify-note.mjs <vkey> <signed-note-file>
// Exit 0: the note is well formed and carries a valid signature by exactly that key.
// Exit 1: it does not (the reason is on stderr). Exit 2: bad arguments or key.
import { createHash, createPublicKey, verify } from "node:crypto";
import { readFileSync } from "node:fs";

function fail(code, message) {
  process.stderr.write(`verify-note: ${message}\n`);
  process.exit(code);
}

const [vkey, notePath] = process.argv.slice(2);
if (!vkey || !notePath) fail(2, "usage: node verify-note.mjs <vkey> <signed-note-file>");

// vkey = <name>+<hex8 key ID>+<base64(0x01 || 32-byte public key)>; the base64 may itself contain '+'.
const firstPlus = vkey.indexOf("+");
const secondPlus = vkey.indexOf("+", firstPlus + 1);
if (firstPlus <= 0 || secondPlus < 0) fail(2, "vkey is not <name>+<hex8>+<base64>");
const name = vkey.slice(0, firstPlus);
const idHex = vkey.slice(firstPlus + 1, secondPlus);
const keyB64 = vkey.slice(secondPlus + 1);
if (!/^[0-9a-f]{8}$/i.test(idHex)) fail(2, "vkey key ID is not 8 hex digits");
const typedKey = Buffer.from(keyB64, "base64");
if (typedKey.toString("base64") !== keyB64) fail(2, "vkey key is not canonical base64");
if (typedKey.length !== 33 || typedKey[0] !== 0x01) fail(2, "vkey key is not 0x01 || 32-byte Ed25519 key");

// key ID = SHA-256(name || 0x0A || 0x01 || public key)[:4]
const keyId = createHash("sha256")
  .update(Buffer.concat([Buffer.from(name, "utf8"), Buffer.from([0x0a]), typedKey]))
  .digest()
  .subarray(0, 4);
if (keyId.toString("hex") !== idHex.toLowerCase()) fail(2, "vkey key ID does not match its name and key");

// A raw Ed25519 key becomes a KeyObject through its DER SubjectPublicKeyInfo: a fixed 12-byte prefix + the key.
const spki = Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), typedKey.subarray(1)]);
const publicKey = createPublicKey({ key: spki, format: "der", type: "spki" });

const note = readFileSync(notePath);
let decoded;
try {
  decoded = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(note);
} catch {
  fail(1, "note is not valid UTF-8");
}
if (/[\u0000-\u0009\u000b-\u001f]/.test(decoded)) fail(1, "note contains a control character other than newline");

// Work on bytes: the signature covers the text's exact UTF-8 bytes, final newline included.
const split = note.lastIndexOf(Buffer.from("\n\n"));
if (split < 0) fail(1, "no blank line before the signatures");
const text = note.subarray(0, split + 1);
const block = note.subarray(split + 2).toString("utf8");
if (block.length === 0 || !block.endsWith("\n")) fail(1, "signature block is empty or lacks its final newline");

let good = 0;
for (const line of block.slice(0, -1).split("\n")) {
  if (!line.startsWith("\u2014 ")) fail(1, `not a signature line: ${JSON.stringify(line)}`);
  const rest = line.slice(2);
  const space = rest.indexOf(" ");
  if (space <= 0) fail(1, `signature line without a key name: ${JSON.stringify(line)}`);
  const sigName = rest.slice(0, space);
  const sigB64 = rest.slice(space + 1);
  const blob = Buffer.from(sigB64, "base64");
  if (blob.toString("base64") !== sigB64 || blob.length < 5) fail(1, `bad signature encoding: ${JSON.stringify(line)}`);
  if (sigName !== name || !blob.subarray(0, 4).equals(keyId)) continue; // another key's signature: ignored
  if (blob.length !== 68 || !verify(null, text, publicKey, blob.subarray(4))) {
    fail(1, `signature by ${name}+${idHex} does not verify`);
  }
  good++;
}

if (good === 0) fail(1, `no signature by ${name}+${idHex}`);
process.stdout.write(`ok: ${good} signature(s) by ${name}+${idHex}\n`);
