// Independent reference counts for the MeterAgent.Metering cross-check.
// stdin: one JSON string per line. stdout: one o200k_base token count per line, same order.
// encode(text, [], []) treats special-token look-alikes such as <|endoftext|> as ordinary text,
// which is the rule MeterAgent's reference count follows (docs/canonical-text.md).
"use strict";

const { Tiktoken } = require("js-tiktoken/lite");
const o200k = require("js-tiktoken/ranks/o200k_base");
const readline = require("node:readline");

const enc = new Tiktoken(o200k);
const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
const out = [];

rl.on("line", (line) => {
  if (line.length === 0) return;
  const text = JSON.parse(line);
  if (typeof text !== "string") throw new Error("each line must be a JSON string");
  out.push(String(enc.encode(text, [], []).length));
});

rl.on("close", () => {
  process.stdout.write(out.join("\n") + (out.length ? "\n" : ""));
});
