// An independent check of MeterAgent's signed notes, written from the specs (c2sp.org/signed-note,
// RFC 8032) with nothing but node's built-in crypto, so a bug shared with the C# code would have to be
// made twice. Usage: node verify-note.mjs <vkey> <signed-note-file>
// Exit 0: the note is well formed and carries a valid signature by exactly that key.
// Exit 1: it does not (the reason is on stderr). Exit 2: bad arguments or key.
import { verify } from "node:crypto";
import { parseVerifierKey } from "./vkey.mjs";
import { readFileSync } from "node:fs";

function fail(code, message) {
  process.stderr.write(`verify-note: ${message}\n`);
  process.exit(code);
}

const [vkey, notePath] = process.argv.slice(2);
if (!vkey || !notePath) fail(2, "usage: node verify-note.mjs <vkey> <signed-note-file>");

const { name, idHex, keyId, publicKey } = parseVerifierKey(vkey, (message) => fail(2, message));

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
