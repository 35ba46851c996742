/**
 * A real pseudo-terminal for tests that type as a person would: one command in a detached tmux session on a
 * private socket (never the user's tmux server). The command's exit code is printed as `[exit N]` when it ends,
 * and the pane stays open so its screen can still be read.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "../../src/client/wait.js";

export interface TerminalOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Seconds a wait for the screen may take (bounded; the error shows the last screen line). */
  timeoutMs?: number;
}

export class Terminal {
  private constructor(
    private readonly socket: string,
    private readonly dir: string,
    private readonly timeoutMs: number,
  ) {}

  /** Starts `command` (a shell command line) in a 160×50 terminal. */
  static start(command: string, options: TerminalOptions): Terminal {
    const dir = mkdtempSync(join(tmpdir(), "cml-lab-tty-"));
    const terminal = new Terminal(join(dir, "tmux.sock"), dir, options.timeoutMs ?? 30_000);
    const line = `${command}; echo "[exit $?]"; exec sleep 3600`;
    terminal.tmux(["new-session", "-d", "-s", "t", "-x", "160", "-y", "50", "-c", options.cwd, line], options.env);
    return terminal;
  }

  /** Everything the terminal shows, scrollback included, without trailing blank lines. */
  screen(): string {
    return this.tmux(["capture-pane", "-p", "-J", "-S", "-", "-t", "t"]).replace(/\s+$/, "");
  }

  /** Waits until the screen matches; returns the screen. */
  async waitFor(pattern: RegExp, what = `the terminal to show ${pattern}`): Promise<string> {
    return waitFor(async () => this.screen(), {
      what,
      timeoutMs: this.timeoutMs,
      intervalMs: 200,
      status: (screen) => screen.split("\n").at(-1) ?? "",
      until: (screen) => pattern.test(screen),
      // The command ended without showing it: say so now, with the whole screen, instead of waiting out the time.
      failWhen: (screen) => (/\[exit \d+\]$/.test(screen) ? `the command ended first:\n${screen}` : undefined),
    });
  }

  /** Types text literally (no key names), then Enter unless told otherwise. */
  type(text: string, enter = true): void {
    if (text) this.tmux(["send-keys", "-t", "t", "-l", text]);
    if (enter) this.press("Enter");
  }

  /** Presses a key by its tmux name: Enter, C-c, C-d. */
  press(key: string): void {
    this.tmux(["send-keys", "-t", "t", key]);
  }

  /** Waits for the command to end; its exit code and the whole screen. */
  async exit(): Promise<{ code: number; screen: string }> {
    const screen = await this.waitFor(/\[exit \d+\]/, "the command to exit");
    return { code: Number(/\[exit (\d+)\]/.exec(screen)?.[1]), screen };
  }

  close(): void {
    try {
      this.tmux(["kill-server"]);
    } catch {
      // Already gone.
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private tmux(args: string[], env?: NodeJS.ProcessEnv): string {
    return execFileSync("tmux", ["-S", this.socket, ...args], { encoding: "utf8", ...(env ? { env } : {}) });
  }
}
