// An independent check of MeterAgent's signed usage statements, written from the specs (DSSE protocol v1,
// in-toto Statement v1, RFC 8032) with nothing but node's built-in crypto.
// Usage: node verify-dsse.mjs <vkey> <envelope-file>
// Exit 0: a signature whose keyid is that vkey verifies over PAE(payloadType, payload), and the payload is an in-toto
// Statement about a log tree. Exit 1: it does not (the reason is on stderr). Exit 2: bad arguments or key.
import { verify } from "node:crypto";
import { readFileSync } from "node:fs";
import { parseVerifierKey } from "./vkey.mjs";

function fail(code, message) {
  process.stderr.write(`verify-dsse: ${message}\n`);
  process.exit(code);
}

const [vkey, envelopePath] = process.argv.slice(2);
if (!vkey || !envelopePath) fail(2, "usage: node verify-dsse.mjs <vkey> <envelope-file>");
const { publicKey } = parseVerifierKey(vkey, (message) => fail(2, message));

let envelope;
try {
  envelope = JSON.parse(readFileSync(envelopePath, "utf8"));
} catch (error) {
  fail(1, `envelope is not JSON: ${error.message}`);
}
const type = "application/vnd.in-toto+json";
if (envelope.payloadType !== type) fail(1, `payloadType is not ${type}`);
if (typeof envelope.payload !== "string" || !Array.isArray(envelope.signatures)) fail(1, "not a DSSE envelope");
const payload = Buffer.from(envelope.payload, "base64");

// PAE = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, lengths in ASCII decimal bytes.
const pae = Buffer.concat([
  Buffer.from(`DSSEv1 ${Buffer.byteLength(type)} ${type} ${payload.length} `, "utf8"),
  payload,
]);
const ours = envelope.signatures.filter((s) => s.keyid === vkey);
if (ours.length === 0) fail(1, "no signature by that key");
if (!ours.every((s) => verify(null, pae, publicKey, Buffer.from(s.sig, "base64")))) fail(1, "a signature by that key does not verify");

const statement = JSON.parse(payload.toString("utf8"));
if (statement._type !== "https://in-toto.io/Statement/v1") fail(1, "payload is not an in-toto Statement v1");
const predicate = statement.predicate;
if (statement.subject?.[0]?.name !== `${predicate.log_origin}/tree/${predicate.tree_size}`) fail(1, "subject does not name the predicate's tree");
if (statement.subject[0].digest?.sha256 !== Buffer.from(predicate.root_hash, "base64").toString("hex")) fail(1, "subject digest is not the root hash");
process.stdout.write(`ok: statement ${predicate.sequence} of contract ${predicate.contract_id}, tree ${predicate.tree_size}\n`);
