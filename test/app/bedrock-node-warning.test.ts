/**
 * The Bedrock SDK's Node-version warning is kept from a user's terminal without changing the process's
 * environment: the SDK's switch is set only while the client is built (FACTS.md §B1). Each case is a fresh
 * process, because the SDK remembers the switch once read.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..", "..");
const NODE_MAJOR = Number(process.versions.node.split(".")[0]);

async function node(source: string, env: NodeJS.ProcessEnv = {}): Promise<{ stdout: string; stderr: string }> {
  return promisify(execFile)(process.execPath, ["--input-type=module", "-e", source], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: "/nonexistent", ...env },
  });
}

describe("building a Bedrock client", () => {
  it.skipIf(NODE_MAJOR >= 22)("the bare SDK warns on this Node (so the check below is not vacuous)", async () => {
    const { stderr } = await node(
      'const { BedrockRuntimeClient } = await import("@aws-sdk/client-bedrock-runtime"); new BedrockRuntimeClient({ region: "us-east-1" });',
    );
    expect(stderr).toContain("NodeVersionSupportWarning");
  });

  it("prints no warning and leaves the environment as it was", async () => {
    const { stdout, stderr } = await node(
      `const { createBedrockClient } = await import("./dist/workloads/llm/bedrock.js");
await createBedrockClient("us-east-1", {});
console.log(JSON.stringify(process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ?? null));`,
    );
    expect(stderr).not.toContain("NodeVersionSupportWarning");
    expect(stdout.trim()).toBe("null");
  });

  it("keeps a value the user set", async () => {
    const { stdout } = await node(
      `const { createBedrockClient } = await import("./dist/workloads/llm/bedrock.js");
await createBedrockClient("us-east-1", {});
console.log(process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED);`,
      { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "false" },
    );
    expect(stdout.trim()).toBe("false");
  });
});
