import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { unwrap, waits } from "../../src/client/index.js";
import { type RunningChatServer, startChatServer } from "../../src/workloads/app/listen.js";
import { storeChoices } from "../../src/workloads/app/stores.js";
import { NODE, readyProject, startTestPlatform, type TestPlatform, upload } from "../local/helpers.js";
import { fixedRetriever } from "./fixtures.js";
import { postChat, validBody } from "./sse-client.js";

// The `cml` back-end end to end: the offline answerer deployed as a model on the local platform (its Node
// harness imports the file and calls `predict`), reached through CML's POST /model contract by the chat app.
const predictModule = pathToFileURL(join(import.meta.dirname, "../../src/workloads/model/predict.ts")).href;

let t: TestPlatform;
let app: RunningChatServer;
const logs: string[] = [];
let accessKey = "";

beforeAll(async () => {
  t = await startTestPlatform();
  const projectId = await readyProject(t.api);
  // The harness runs plain node, so it imports the compiled module (npm test builds dist/ first).
  const compiled = predictModule.replace("/src/", "/dist/").replace(/\.ts$/, ".js");
  await upload(t.api, projectId, { "answerer.mjs": `export { predict } from ${JSON.stringify(compiled)};\n` });
  const model = await unwrap(
    t.api.POST("/api/v2/projects/{project_id}/models", {
      params: { path: { project_id: projectId } },
      body: { name: "offline-answerer", description: "e2e", disable_authentication: true },
    }),
  );
  accessKey = model.access_key ?? "";
  const build = await unwrap(
    t.api.POST("/api/v2/projects/{project_id}/models/{model_id}/builds", {
      params: { path: { project_id: projectId, model_id: model.id ?? "" } },
      body: { file_path: "answerer.mjs", function_name: "predict", runtime_identifier: NODE },
    }),
  );
  await waits.modelBuildBuilt(t.api, projectId, model.id ?? "", build.id ?? "", { timeoutMs: 30_000, intervalMs: 50 });
  const deployment = await unwrap(
    t.api.POST("/api/v2/projects/{project_id}/models/{model_id}/builds/{build_id}/deployments", {
      params: { path: { project_id: projectId, model_id: model.id ?? "", build_id: build.id ?? "" } },
      body: { cpu: 1, memory: 2 },
    }),
  );
  await waits.modelDeploymentDeployed(
    t.api,
    { projectId, modelId: model.id ?? "", buildId: build.id ?? "", deploymentId: deployment.id ?? "" },
    { timeoutMs: 30_000, intervalMs: 50 },
  );
  const env = { CML_LAB_CML_MODEL_URL: `${t.platform.modelServiceUrl}/model`, CML_LAB_CML_MODEL_ACCESS_KEY: accessKey };
  app = await startChatServer({
    port: 0,
    env,
    stores: storeChoices(env, true),
    openRetriever: async () => fixedRetriever(),
    log: (line) => logs.push(line),
  });
});

afterAll(async () => {
  await app?.close();
  await t?.close();
});

describe("cml back-end against a model deployed on the local platform", () => {
  it("answers a chat with cited sentences through POST /model", async () => {
    const { status, events } = await postChat(app.url, {
      ...validBody,
      model: "cml",
      question: "How do I handle exceptions with try?",
    });
    expect(status).toBe(200);
    expect(events.map((e) => e.event)).toEqual(["sources", "delta", "usage", "done"]);
    const text = String(events[1]?.data.text);
    expect(text).toMatch(/try/);
    expect(text).not.toContain("[INST]");
    expect(events.at(-1)?.data.cited).not.toEqual([]);
    expect(JSON.stringify(events) + logs.join("\n")).not.toContain(accessKey);
  });

  it("reports a wrong access key as an error event without the key", async () => {
    const env = {
      CML_LAB_CML_MODEL_URL: `${t.platform.modelServiceUrl}/model`,
      CML_LAB_CML_MODEL_ACCESS_KEY: "wrong-key-canary-123",
    };
    const other = await startChatServer({
      port: 0,
      env,
      stores: storeChoices(env, true),
      openRetriever: async () => fixedRetriever(),
    });
    try {
      const { events } = await postChat(other.url, { ...validBody, model: "cml" });
      expect(events.at(-1)?.event).toBe("error");
      expect(String(events.at(-1)?.data.message)).toMatch(/CML model endpoint answered 4\d\d/);
      expect(JSON.stringify(events)).not.toContain("wrong-key-canary-123");
    } finally {
      await other.close();
    }
  });
});
