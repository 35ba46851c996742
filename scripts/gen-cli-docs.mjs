// Writes docs/cli.md from the CLIs' own --help output, so the reference cannot drift from the code.
// Run after `npm run build`: npm run gen:cli-docs
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const commands = {
  deploy: [
    [],
    ["validate"],
    ["plan"],
    ["apply"],
    ["destroy"],
    ["run"],
    ["logs"],
    ["app", "set-script"],
    ["import"],
    ["local"],
    ["local", "up"],
    ["local", "status"],
    ["local", "down"],
    ["local", "logs"],
    ["api"],
    ["schema"],
  ],
  "cml-lab": [
    [],
    ["start"],
    ["stop"],
    ["ingest", "scrape"],
    ["ingest", "index"],
    ["ingest", "run"],
    ["app"],
    ["query"],
    ["eval"],
    ["chroma", "serve"],
    ["docs-site"],
  ],
};

function help(bin, words) {
  return execFileSync(process.execPath, [`bin/${bin}.js`, ...words, "--help"], {
    cwd: root,
    env: { ...process.env, COLUMNS: "110", NO_COLOR: "1" },
    encoding: "utf8",
  }).trimEnd();
}

let out = `# Command reference

Generated from the commands' own \`--help\` by \`npm run gen:cli-docs\`; every command also answers \`--help\`.
\`deploy\` manages what runs on CML (or the local platform); \`cml-lab\` is what runs there (the workloads) plus
\`start\`/\`stop\` for the whole lab on this machine.
`;
for (const [bin, list] of Object.entries(commands)) {
  for (const words of list) {
    out += `\n## \`${[bin, ...words].join(" ")}\`\n\n\`\`\`text\n${help(bin, words)}\n\`\`\`\n`;
  }
}
writeFileSync(new URL("../docs/cli.md", import.meta.url), out);
console.log("wrote docs/cli.md");
