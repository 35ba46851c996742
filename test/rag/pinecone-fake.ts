/**
 * An in-memory Pinecone written from its REST contracts, for msw: the control plane at api.pinecone.io
 * (describe and create index, with the host the data plane lives at) and each index's data plane (db_data).
 * Every request must carry `Api-Key` and `X-Pinecone-Api-Version`; a wrong key gets the 401 body Pinecone
 * sends, a vector of another dimension the data plane's 400, a new index starts `Initializing` and becomes
 * `Ready` after a few describes.
 */
import { HttpResponse, http } from "msw";

export const CONTROL = "https://api.pinecone.io";
type Row = { id: string; values: number[]; metadata?: Record<string, unknown> };

export interface FakeIndex {
  name: string;
  dimension: number;
  metric: "cosine" | "euclidean" | "dotproduct";
  host: string;
  spec: { serverless: { cloud: string; region: string } };
  /** Describes left before the index reports ready. */
  initialising: number;
  namespaces: Map<string, Map<string, Row>>;
}

export function hostFor(name: string): string {
  return `https://${name}-abc123.svc.aped-4627-b74a.pinecone.io`;
}

export function pineconeFake(
  key: string,
  existing: { name: string; dimension: number; metric?: FakeIndex["metric"] }[] = [],
) {
  const indexes = new Map<string, FakeIndex>();
  const add = (name: string, dimension: number, metric: FakeIndex["metric"] = "cosine", initialising = 0) => {
    const index: FakeIndex = {
      name,
      dimension,
      metric,
      host: hostFor(name),
      spec: { serverless: { cloud: "aws", region: "us-east-1" } },
      initialising,
      namespaces: new Map(),
    };
    indexes.set(name, index);
    return index;
  };
  for (const index of existing) add(index.name, index.dimension, index.metric);
  const calls: string[] = [];
  const writes = { upserts: 0, deletes: 0, largestBatch: 0, largestBody: 0, keyMissing: 0, nullMetadata: 0 };
  const versions = new Set<string>();

  /** The 401 Pinecone answers a missing or wrong key with, or undefined when the request may proceed. */
  const refuse = (request: Request): Response | undefined => {
    const url = new URL(request.url);
    calls.push(`${request.method} ${url.host === new URL(CONTROL).host ? "" : "data:"}${url.pathname}`);
    versions.add(request.headers.get("x-pinecone-api-version") ?? "(none)");
    if (request.headers.get("api-key") === key) return undefined;
    writes.keyMissing++;
    return HttpResponse.json(
      { error: { code: "UNAUTHENTICATED", message: "Invalid API Key" }, status: 401 },
      { status: 401 },
    );
  };
  const model = (index: FakeIndex) => {
    const ready = index.initialising <= 0;
    return {
      name: index.name,
      dimension: index.dimension,
      metric: index.metric,
      host: index.host.replace("https://", ""),
      vector_type: "dense",
      deletion_protection: "disabled",
      spec: index.spec,
      status: { ready, state: ready ? "Ready" : "Initializing" },
    };
  };
  const badDimension = (got: number, index: FakeIndex) =>
    HttpResponse.json(
      {
        code: 3,
        message: `Vector dimension ${got} does not match the dimension of the index ${index.dimension}`,
        details: [],
      },
      { status: 400 },
    );

  const control = [
    http.get(`${CONTROL}/indexes/:name`, ({ request, params }) => {
      const refused = refuse(request);
      if (refused) return refused;
      const index = indexes.get(String(params.name));
      if (!index) {
        return HttpResponse.json(
          { error: { code: "NOT_FOUND", message: `Resource ${String(params.name)} not found` }, status: 404 },
          { status: 404 },
        );
      }
      index.initialising--;
      return HttpResponse.json(model(index));
    }),
    http.post(`${CONTROL}/indexes`, async ({ request }) => {
      const refused = refuse(request);
      if (refused) return refused;
      const body = (await request.json()) as {
        name: string;
        dimension: number;
        metric?: FakeIndex["metric"];
        spec?: { serverless?: { cloud: string; region: string } };
      };
      if (indexes.has(body.name)) {
        return HttpResponse.json(
          { error: { code: "ALREADY_EXISTS", message: "Resource already exists" }, status: 409 },
          { status: 409 },
        );
      }
      if (!body.spec?.serverless || !Number.isInteger(body.dimension) || body.dimension < 1) {
        return HttpResponse.json(
          { error: { code: "INVALID_ARGUMENT", message: "bad request" }, status: 400 },
          { status: 400 },
        );
      }
      const index = add(body.name, body.dimension, body.metric ?? "cosine", 3);
      index.spec = { serverless: body.spec.serverless };
      index.initialising = 3;
      return HttpResponse.json(model(index), { status: 201 });
    }),
  ];

  const dataPlane = (index: FakeIndex) => {
    const HOST = index.host;
    const ns = (name: string) => {
      let rows = index.namespaces.get(name);
      if (!rows) {
        rows = new Map();
        index.namespaces.set(name, rows);
      }
      return rows;
    };
    return [
      http.post(`${HOST}/vectors/upsert`, async ({ request }) => {
        const refused = refuse(request);
        if (refused) return refused;
        const text = await request.text();
        const body = JSON.parse(text);
        const wrong = body.vectors.find((row: Row) => row.values.length !== index.dimension);
        if (wrong) return badDimension(wrong.values.length, index);
        writes.upserts++;
        writes.largestBatch = Math.max(writes.largestBatch, body.vectors.length);
        writes.largestBody = Math.max(writes.largestBody, Buffer.byteLength(text));
        for (const row of body.vectors) {
          if (Object.values(row.metadata ?? {}).some((value) => value === null)) writes.nullMetadata++;
          ns(body.namespace ?? "").set(row.id, row);
        }
        return HttpResponse.json({ upsertedCount: body.vectors.length });
      }),
      http.get(`${HOST}/vectors/fetch`, ({ request }) => {
        const refused = refuse(request);
        if (refused) return refused;
        const url = new URL(request.url);
        const rows = ns(url.searchParams.get("namespace") ?? "");
        const vectors = Object.fromEntries(
          url.searchParams.getAll("ids").flatMap((id) => (rows.has(id) ? [[id, rows.get(id)]] : [])),
        );
        return HttpResponse.json({ vectors, namespace: url.searchParams.get("namespace") ?? "" });
      }),
      http.get(`${HOST}/vectors/list`, ({ request }) => {
        const refused = refuse(request);
        if (refused) return refused;
        const url = new URL(request.url);
        const ids = [...ns(url.searchParams.get("namespace") ?? "").keys()].sort();
        const start = Number(url.searchParams.get("paginationToken") ?? 0);
        const limit = Number(url.searchParams.get("limit") ?? 100);
        const next = start + limit < ids.length ? { next: String(start + limit) } : undefined;
        return HttpResponse.json({
          vectors: ids.slice(start, start + limit).map((id) => ({ id })),
          ...(next ? { pagination: next } : {}),
          namespace: url.searchParams.get("namespace") ?? "",
        });
      }),
      http.post(`${HOST}/vectors/delete`, async ({ request }) => {
        const refused = refuse(request);
        if (refused) return refused;
        const body = await request.json();
        if (typeof body !== "object" || body === null) return HttpResponse.json({});
        const rows = ns("namespace" in body && typeof body.namespace === "string" ? body.namespace : "");
        writes.deletes++;
        if ("deleteAll" in body && body.deleteAll) rows.clear();
        if ("ids" in body && Array.isArray(body.ids)) for (const id of body.ids) rows.delete(String(id));
        return HttpResponse.json({});
      }),
      http.post(`${HOST}/query`, async ({ request }) => {
        const refused = refuse(request);
        if (refused) return refused;
        const body = await request.json();
        if (typeof body !== "object" || body === null || !("vector" in body) || !Array.isArray(body.vector)) {
          return HttpResponse.json({ matches: [] });
        }
        const query: number[] = body.vector;
        if (query.length !== index.dimension) return badDimension(query.length, index);
        const rows = ns("namespace" in body && typeof body.namespace === "string" ? body.namespace : "");
        const topK = "topK" in body && typeof body.topK === "number" ? body.topK : 10;
        const matches = [...rows.values()]
          .map((row) => ({ id: row.id, score: row.values.reduce((sum, v, i) => sum + v * (query[i] ?? 0), 0) }))
          .sort((a, b) => b.score - a.score)
          .slice(0, topK);
        return HttpResponse.json({ matches, namespace: "" });
      }),
      http.post(`${HOST}/describe_index_stats`, ({ request }) => {
        const refused = refuse(request);
        if (refused) return refused;
        return HttpResponse.json({
          namespaces: Object.fromEntries(
            [...index.namespaces].map(([name, rows]) => [name, { vectorCount: rows.size }]),
          ),
          dimension: index.dimension,
          indexFullness: 0,
          totalVectorCount: [...index.namespaces.values()].reduce((sum, rows) => sum + rows.size, 0),
        });
      }),
    ];
  };

  /** Data-plane handlers for every index, those created later included (msw matches by URL). */
  const data = http.all(/\.svc\..*\.pinecone\.io\//, async ({ request }) => {
    const host = `https://${new URL(request.url).host}`;
    const index = [...indexes.values()].find((candidate) => candidate.host === host);
    if (!index) return HttpResponse.json({ message: "no such host" }, { status: 404 });
    for (const handler of dataPlane(index)) {
      const result = await handler.run({ request: request.clone(), requestId: crypto.randomUUID() });
      if (result?.response) return result.response;
    }
    return undefined;
  });

  return { handlers: [...control, data], indexes, calls, writes, versions };
}
