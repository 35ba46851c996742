import { join } from "node:path";
import { UserError } from "../../../shared/errors.js";
import { loadWorkload } from "../../../shared/workload-packages.js";
import { ChunkCatalog } from "../catalog.js";
import { LocalStore } from "./local.js";
import type { VectorStore } from "./store.js";

export type StoreChoice = "local" | "chroma" | "pinecone";

export interface StoreConnection {
  store: StoreChoice;
  chroma?: { url: string; collection?: string };
  pinecone?: { apiKey: string; index: string; namespace?: string; host?: string; cloud?: string; region?: string };
}

export const DEFAULT_COLLECTION = "cml-lab-docs";

/** The data-directory key of an index: its catalog (lexical side, page hashes) lives in `<dataDir>/index/<key>`. */
export function indexKey(connection: StoreConnection): string {
  switch (connection.store) {
    case "local":
      return "local";
    case "chroma":
      return `chroma-${safe(connection.chroma?.collection ?? DEFAULT_COLLECTION)}`;
    case "pinecone":
      return `pinecone-${safe(connection.pinecone?.index ?? "index")}-${safe(connection.pinecone?.namespace ?? "default")}`;
  }
}

function safe(name: string): string {
  return name.replace(/[^\w.-]+/g, "_");
}

export function catalogDirFor(dataDir: string, key: string): string {
  return join(dataDir, "index", key);
}

/** The store and its catalog for one data directory and connection. */
export async function openStore(
  dataDir: string,
  connection: StoreConnection,
): Promise<{ store: VectorStore; catalog: ChunkCatalog }> {
  const catalog = ChunkCatalog.open(catalogDirFor(dataDir, indexKey(connection)));
  switch (connection.store) {
    case "local":
      return { store: new LocalStore(catalog), catalog };
    case "chroma": {
      if (!connection.chroma?.url) throw new UserError("--store chroma needs --chroma-url (or CHROMA_URL)");
      const { ChromaStore } = await import("./chroma.js");
      return {
        store: await ChromaStore.connect(connection.chroma.url, connection.chroma.collection ?? DEFAULT_COLLECTION),
        catalog,
      };
    }
    case "pinecone": {
      if (!connection.pinecone?.apiKey || !connection.pinecone.index) {
        throw new UserError("--store pinecone needs --pinecone-index and PINECONE_API_KEY");
      }
      const { PineconeStore } = await loadWorkload(
        "--store pinecone",
        ["@pinecone-database/pinecone"],
        () => import("./pinecone.js"),
      );
      return { store: PineconeStore.connect(connection.pinecone), catalog };
    }
  }
}
