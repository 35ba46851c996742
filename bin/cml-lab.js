#!/usr/bin/env node
// Thin launcher for the workloads CLI (ingest, app, query, eval, start); see bin/deploy.js.
import { runBin } from "./run-bin.js";

await runBin("../dist/cli/bin.js");
