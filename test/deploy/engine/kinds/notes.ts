/**
 * A kind that exists only in tests: text notes kept as files `notes/<name>.txt` in the project, each ending in its
 * stack's marker line. It is written against the adapter contract alone, to prove that a new kind is one file
 * plus one registry line and goes through the unchanged engine.
 */
import { posix } from "node:path";
import { downloadProjectFile, listProjectDir, unwrap, uploadProjectFile } from "../../../../src/client/index.js";
import { deleteIfPresent } from "../../../../src/deploy/engine/idempotent.js";
import type { KindAdapter, LiveState } from "../../../../src/deploy/engine/kind.js";

interface LiveNote {
  name: string;
  text: string;
  owner: string | undefined;
}

const MARKER = /\n\[cml-lab stack=([^\]]+)\]\n$/;
const pathOf = (name: string) => `notes/${name}.txt`;
const notesOf = (live: LiveState) => (live.notes as LiveNote[] | undefined) ?? [];
const nameOf = (key: string) => key.slice("notes.".length);

/** The kind, for the notes a test wants (name → text); a manifest section would supply them in a real kind. */
export function notesKind(wanted: () => Readonly<Record<string, string>>): KindAdapter {
  return {
    kind: "notes",
    rules: { recreateOn: {}, serverDefaults: {} },
    owns: (key) => key.startsWith("notes."),
    async read(ctx): Promise<LiveNote[]> {
      const projectId = ctx.projectId;
      if (!projectId) return [];
      const files = await listProjectDir(ctx.api, projectId, "notes").catch(() => []);
      return Promise.all(
        files
          .filter((f) => !f.is_dir && f.path?.endsWith(".txt"))
          .map(async (f) => {
            // A listing names files relative to the directory listed.
            const name = posix.basename(f.path ?? "", ".txt");
            const text = new TextDecoder().decode(await downloadProjectFile(ctx.api, projectId, pathOf(name)));
            return {
              name,
              text: text.replace(MARKER, ""),
              owner: MARKER.exec(text)?.[1],
            };
          }),
      );
    },
    *plan(ctx) {
      for (const [name, text] of Object.entries(wanted())) {
        const note = notesOf(ctx.live).find((n) => n.name === name);
        yield {
          key: `notes.${name}`,
          dependsOn: ["project"],
          want: { text },
          ...(note ? { have: { text: note.text }, id: name, owner: { stack: note.owner } } : {}),
        };
      }
    },
    existing: (ctx) =>
      notesOf(ctx.live).map((n) => ({ key: `notes.${n.name}`, id: n.name, owner: n.owner, preventDestroy: false })),
    outputs: (key, { live }) => {
      const note = notesOf(live).find((n) => n.name === nameOf(key));
      return note ? { id: note.name, path: pathOf(note.name) } : undefined;
    },
    async create(ctx, entry) {
      const name = nameOf(entry.key);
      const text = wanted()[name] ?? "";
      await uploadProjectFile(ctx.api, ctx.projectId(), pathOf(name), `${text}\n[cml-lab stack=${ctx.stack}]\n`);
      return { id: name, path: pathOf(name) };
    },
    async update(ctx, entry) {
      // Uploads never overwrite (openapi/FACTS.md §5): delete, then upload.
      await this.delete(ctx, entry);
      return this.create(ctx, entry);
    },
    async delete(ctx, entry) {
      await deleteIfPresent(() =>
        unwrap(
          ctx.api.DELETE("/api/v2/projects/{project_id}/files/{path}", {
            params: { path: { project_id: ctx.projectId(), path: pathOf(nameOf(entry.key)) } },
          }),
        ),
      );
    },
  };
}
