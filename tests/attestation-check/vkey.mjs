// A C2SP verifier key (c2sp.org/signed-note): <name>+<hex8 key ID>+<base64(0x01 || 32-byte Ed25519 public key)>,
// parsed and checked from the spec with node's built-in crypto. Shared by verify-note.mjs and verify-dsse.mjs.
import { createHash, createPublicKey } from "node:crypto";

export function parseVerifierKey(vkey, bad) {
  // vkey = <name>+<hex8 key ID>+<base64(0x01 || 32-byte public key)>; the base64 may itself contain '+'.
  const firstPlus = vkey.indexOf("+");
  const secondPlus = vkey.indexOf("+", firstPlus + 1);
  if (firstPlus <= 0 || secondPlus < 0) bad("vkey is not <name>+<hex8>+<base64>");
  const name = vkey.slice(0, firstPlus);
  const idHex = vkey.slice(firstPlus + 1, secondPlus);
  const keyB64 = vkey.slice(secondPlus + 1);
  if (!/^[0-9a-f]{8}$/i.test(idHex)) bad("vkey key ID is not 8 hex digits");
  const typedKey = Buffer.from(keyB64, "base64");
  if (typedKey.toString("base64") !== keyB64) bad("vkey key is not canonical base64");
  if (typedKey.length !== 33 || typedKey[0] !== 0x01) bad("vkey key is not 0x01 || 32-byte Ed25519 key");

  // key ID = SHA-256(name || 0x0A || 0x01 || public key)[:4]
  const keyId = createHash("sha256")
    .update(Buffer.concat([Buffer.from(name, "utf8"), Buffer.from([0x0a]), typedKey]))
    .digest()
    .subarray(0, 4);
  if (keyId.toString("hex") !== idHex.toLowerCase()) bad("vkey key ID does not match its name and key");

  // A raw Ed25519 key becomes a KeyObject through its DER SubjectPublicKeyInfo: a fixed 12-byte prefix + the key.
  const spki = Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), typedKey.subarray(1)]);
  const publicKey = createPublicKey({ key: spki, format: "der", type: "spki" });
  return { name, idHex, keyId, publicKey };
}
