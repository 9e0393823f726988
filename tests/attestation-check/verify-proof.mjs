// An independent check of the usage log's proofs, written from RFC 9162 (§2.1.3.2 inclusion, §2.1.4.2 consistency)
// with nothing but node's built-in crypto, so a bug shared with the C# code would have to be made twice.
//
//   node verify-proof.mjs inclusion <checkpoint-note-file> <proof.json>
//     proof.json: the agent's /log/proof/inclusion answer ({"leaf_index","tree_size","entry","hashes"}); the leaf hash
//     is computed here from "entry", and the root and size are taken from the checkpoint.
//   node verify-proof.mjs consistency <old-checkpoint-note-file> <new-checkpoint-note-file> <proof.json>
//     proof.json: the agent's /log/proof/consistency answer ({"from","to","hashes"}).
//
// The checkpoints' signatures are not checked here: check them with verify-note.mjs first. Sizes are BigInts, so any
// size a checkpoint can state (up to 2^63 - 1) is handled exactly.
// Exit 0: the proof holds. Exit 1: it does not (the reason is on stderr). Exit 2: bad arguments or files.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

function fail(code, message) {
  process.stderr.write(`verify-proof: ${message}\n`);
  process.exit(code);
}

const sha256 = (...parts) => createHash("sha256").update(Buffer.concat(parts)).digest();
const leafHash = (entry) => sha256(Buffer.from([0x00]), entry);
const nodeHash = (left, right) => sha256(Buffer.from([0x01]), left, right);

// Standard base64 of exactly `length` bytes (or any length when omitted), refusing other spellings.
function base64(text, what, length) {
  if (typeof text !== "string") fail(2, `${what} is not a base64 string`);
  const bytes = Buffer.from(text, "base64");
  if (bytes.toString("base64") !== text) fail(2, `${what} is not canonical standard base64`);
  if (length !== undefined && bytes.length !== length) fail(2, `${what} is ${bytes.length} bytes, not ${length}`);
  return bytes;
}

function size(value, what) {
  if (!(typeof value === "number" && Number.isSafeInteger(value) && value >= 0) && !/^(0|[1-9][0-9]*)$/.test(String(value))) {
    fail(2, `${what} is not a non-negative integer`);
  }
  return BigInt(value);
}

// c2sp.org/tlog-checkpoint: the note's text (up to the last blank line) is origin, size, base64 root, [extensions].
function readCheckpoint(path) {
  const note = readFileSync(path, "utf8");
  const split = note.lastIndexOf("\n\n");
  if (split < 0) fail(2, `${path}: not a signed note (no blank line before the signatures)`);
  const lines = note.slice(0, split).split("\n");
  if (lines.length < 3) fail(2, `${path}: a checkpoint has an origin, a size and a root`);
  if (!/^(0|[1-9][0-9]*)$/.test(lines[1])) fail(2, `${path}: line 2 is not a tree size`);
  return { origin: lines[0], size: BigInt(lines[1]), root: base64(lines[2], `${path}: the root`, 32) };
}

function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    fail(2, `${path}: ${error.message}`);
  }
}

const isPowerOfTwo = (n) => n > 0n && (n & (n - 1n)) === 0n;

// RFC 9162 §2.1.3.2.
function verifyInclusion(leafIndex, treeSize, hash, path, root) {
  if (leafIndex >= treeSize) return "the leaf index is not below the tree size";
  let fn = leafIndex;
  let sn = treeSize - 1n;
  let r = hash;
  for (const p of path) {
    if (sn === 0n) return "the path is longer than the tree is deep";
    if ((fn & 1n) === 1n || fn === sn) {
      r = nodeHash(p, r);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      r = nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) return "the path is shorter than the tree is deep";
  return r.equals(root) ? null : "the path does not lead to the checkpoint's root";
}

// RFC 9162 §2.1.4.2; the RFC defines it for first < second, and equal sizes take an empty proof and equal roots.
function verifyConsistency(first, second, firstHash, secondHash, proof) {
  if (first === second) {
    if (proof.length !== 0) return "equal sizes take an empty proof";
    return firstHash.equals(secondHash) ? null : "equal sizes with different roots";
  }
  if (first === 0n || first > second) return "the sizes are not 0 < first <= second";
  if (proof.length === 0) return "the proof is empty";
  const path = isPowerOfTwo(first) ? [firstHash, ...proof] : [...proof];
  let fn = first - 1n;
  let sn = second - 1n;
  while ((fn & 1n) === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0n) return "the proof is longer than the trees need";
    if ((fn & 1n) === 1n || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) return "the proof is shorter than the trees need";
  if (!fr.equals(firstHash)) return "the proof does not rebuild the old checkpoint's root";
  if (!sr.equals(secondHash)) return "the proof does not rebuild the new checkpoint's root";
  return null;
}

const [kind, ...args] = process.argv.slice(2);
if (kind === "inclusion" && args.length === 2) {
  const checkpoint = readCheckpoint(args[0]);
  const proof = readJson(args[1]);
  const leafIndex = size(proof.leaf_index, "leaf_index");
  const treeSize = size(proof.tree_size, "tree_size");
  if (treeSize !== checkpoint.size) fail(1, `the proof is for size ${treeSize}, the checkpoint's size is ${checkpoint.size}`);
  if (!Array.isArray(proof.hashes)) fail(2, "hashes is not an array");
  const path = proof.hashes.map((h, i) => base64(h, `hashes[${i}]`, 32));
  const problem = verifyInclusion(leafIndex, treeSize, leafHash(base64(proof.entry, "entry")), path, checkpoint.root);
  if (problem) fail(1, `inclusion of leaf ${leafIndex} in ${checkpoint.origin} at size ${treeSize}: ${problem}`);
  process.stdout.write(`ok: leaf ${leafIndex} is in ${checkpoint.origin} at size ${treeSize}\n`);
} else if (kind === "consistency" && args.length === 3) {
  const older = readCheckpoint(args[0]);
  const newer = readCheckpoint(args[1]);
  const proof = readJson(args[2]);
  const from = size(proof.from, "from");
  const to = size(proof.to, "to");
  if (from !== older.size || to !== newer.size) {
    fail(1, `the proof is from ${from} to ${to}, the checkpoints' sizes are ${older.size} and ${newer.size}`);
  }
  if (older.origin !== newer.origin) fail(1, `the checkpoints are of two logs (${older.origin}, ${newer.origin})`);
  if (!Array.isArray(proof.hashes)) fail(2, "hashes is not an array");
  const path = proof.hashes.map((h, i) => base64(h, `hashes[${i}]`, 32));
  const problem = verifyConsistency(from, to, older.root, newer.root, path);
  if (problem) fail(1, `consistency of ${older.origin} from ${from} to ${to}: ${problem}`);
  process.stdout.write(`ok: ${older.origin} at size ${to} extends size ${from}\n`);
} else {
  fail(2, "usage: node verify-proof.mjs inclusion <checkpoint> <proof.json> | consistency <old-checkpoint> <new-checkpoint> <proof.json>");
}
