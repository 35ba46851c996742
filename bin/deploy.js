#!/usr/bin/env node
// Thin launcher: the CLI is compiled TypeScript in dist/ (built by `npm ci` through `prepare`).
import { runBin } from "./run-bin.js";

await runBin("../dist/deploy/bin.js");
