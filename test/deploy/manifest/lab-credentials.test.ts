/**
 * Every workload of manifests/lab.yaml that can call a cloud service gets that service's credentials when the
 * user has them, and none when not: the populate jobs embed with Titan (--var embedder=bedrock) or OpenAI, the
 * ask job and the chat app ask Bedrock with access keys or a Bedrock API key (AWS_BEARER_TOKEN_BEDROCK).
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadManifest } from "../../../src/deploy/manifest/index.js";

const root = join(import.meta.dirname, "../../..");
const AWS = {
  AWS_ACCESS_KEY_ID: "AKIDTEST",
  AWS_SECRET_ACCESS_KEY: "secret-test",
  AWS_BEARER_TOKEN_BEDROCK: "ABSK-test",
};
const PINECONE = { PINECONE_API_KEY: "pc-test", OPENAI_API_KEY: "sk-test" };

async function envKeys(env: Record<string, string>) {
  const { manifest, diagnostics } = await loadManifest(join(root, "manifests/lab.yaml"), {
    env: { CML_API_URL: "https://ml.example.test", ...env },
    cwd: root,
    target: "workspace",
  });
  expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  if (!manifest) throw new Error("lab.yaml did not load");
  const keys = (r: { env: Record<string, unknown> }) => Object.keys(r.env).sort();
  return {
    populateChroma: keys(manifest.jobs["populate-chroma"] ?? { env: {} }),
    populatePinecone: keys(manifest.jobs["populate-pinecone"] ?? { env: {} }),
    ask: keys(manifest.jobs.ask ?? { env: {} }),
    chat: keys(manifest.applications.chat ?? { env: {} }),
  };
}

describe("manifests/lab.yaml credentials", () => {
  it("pass the AWS and OpenAI credentials the user set to every workload that may call them", async () => {
    const with_ = await envKeys({ ...AWS, ...PINECONE });
    for (const keys of [with_.populateChroma, with_.populatePinecone, with_.ask, with_.chat])
      expect(keys).toEqual(expect.arrayContaining(["AWS_REGION", ...Object.keys(AWS)]));
    for (const keys of [with_.populateChroma, with_.populatePinecone]) expect(keys).toContain("OPENAI_API_KEY");
  });

  it("leave out the ones the user did not set (an empty bearer token would switch the SDK to bearer auth)", async () => {
    const without = await envKeys({});
    for (const keys of [without.populateChroma, without.ask, without.chat]) {
      expect(keys).toContain("AWS_REGION");
      for (const name of [...Object.keys(AWS), "OPENAI_API_KEY"]) expect(keys).not.toContain(name);
    }
  });
});
